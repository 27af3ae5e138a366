import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * @tensorflow/tfjs-node 4.22 (the latest release) calls `util.isNullOrUndefined`, which
 * Node 23 removed: every kernel with an attribute throws "isNullOrUndefined is not a
 * function". The fix is merged upstream but unreleased (tensorflow/tfjs#8425, #8609), so the
 * function is put back, with its documented meaning, before tfjs-node loads. A Node that
 * still has it keeps its own. tfjs-node's other legacy call, `util.isArray`, is still in Node 24.
 */
export function restoreUtilForTfjsNode(): void {
  const util = require('node:util') as Record<string, unknown>;
  if (typeof util.isNullOrUndefined !== 'function') util.isNullOrUndefined = (v: unknown): boolean => v === null || v === undefined;
}
