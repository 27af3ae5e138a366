import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startFaceAnalyzer } from '../../shared/face/face-analyzer.ts';
import { captureLogger } from '../helpers/runtime-harness.ts';

const blank = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#777' } }).jpeg().toBuffer();

test("a burst of large images leaves a face thread's heap where warm-up left it: the image never becomes a tensor", async () => {
  const { logger, lines } = captureLogger('info');
  // Inference at up to 4096 px. The engine samples its 512-pixel canvases and its crops from
  // the decoded bytes, so the WebAssembly heap (which grows to the largest tensors seen and
  // never shrinks) holds the same tensors whatever the image's size.
  const analyzer = await startFaceAnalyzer({ backend: 'wasm', workers: 1, options: { maxSide: 4096 }, logger, recycleIdleMs: 300 });
  try {
    const baseline = analyzer.info.heapBytes;
    assert.ok(baseline > 0, 'the wasm backend reports its heap');
    const small = await analyzer.analyze(await blank(320, 240));
    assert.equal(small.heapBytes, baseline, 'a small image fits the heap the warm-up made');
    const big = await blank(6000, 4500);
    const burst = await Promise.all([analyzer.analyze(big), analyzer.analyze(big), analyzer.analyze(big)]);
    assert.deepEqual([...new Set(burst.map((a) => a.heapBytes))], [baseline], 'the heap did not grow');
    assert.deepEqual([...new Set(burst.map((a) => a.numTensors))], [small.numTensors], 'no tensor leaks');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(lines.filter((l) => l.msg === 'worker thread replaced to give back the memory a large input grew').length, 0, 'nothing to give back');
    const after = await analyzer.analyze(await blank(320, 240));
    assert.deepEqual(after.faces, small.faces);
  } finally {
    await analyzer.close();
  }
});

test('a thread kept busy with large images is not replaced while it works', async () => {
  const { logger, lines } = captureLogger('info');
  const analyzer = await startFaceAnalyzer({ backend: 'wasm', workers: 1, options: { maxSide: 1280 }, logger, recycleIdleMs: 2_000 });
  try {
    const big = await blank(2560, 1920);
    for (let i = 0; i < 4; i++) await analyzer.analyze(big);
    assert.equal(lines.filter((l) => l.msg === 'worker thread replaced to give back the memory a large input grew').length, 0);
  } finally {
    await analyzer.close();
  }
});
