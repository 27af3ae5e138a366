import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startFaceAnalyzer } from '../../shared/face/face-analyzer.ts';
import { captureLogger, waitFor } from '../helpers/runtime-harness.ts';

const blank = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#777' } }).jpeg().toBuffer();

test('a burst of large images grows a face thread\'s heap; once idle the thread is replaced and the heap is back to its baseline', async () => {
  const { logger, lines } = captureLogger('info');
  // Inference at up to 4096 px: the second looks render 512-pixel canvases, so at the default
  // 1280 px a blank photo no longer outgrows the heap the models and the warm-up made.
  const analyzer = await startFaceAnalyzer({ backend: 'wasm', workers: 1, options: { maxSide: 4096 }, logger, recycleIdleMs: 300 });
  try {
    const baseline = analyzer.info.heapBytes;
    assert.ok(baseline > 0, 'the wasm backend reports its heap');
    const small = await analyzer.analyze(await blank(320, 240));
    assert.equal(small.heapBytes, baseline, 'a small image fits the heap the warm-up made');
    // Large photos (the input tensor, its float copy, the detector's square batch):
    // WebAssembly memory grows to the largest tensors and never shrinks by itself.
    const big = await blank(6000, 4500);
    const burst = await Promise.all([analyzer.analyze(big), analyzer.analyze(big), analyzer.analyze(big)]);
    const grown = Math.max(...burst.map((a) => a.heapBytes));
    assert.ok(grown > baseline * 1.25, `the heap grew from ${baseline} to ${grown} bytes`);
    assert.deepEqual([...new Set(burst.map((a) => a.numTensors))], [small.numTensors], 'no tensor leaks: the growth is the heap, not a leak');
    await waitFor('the thread replaced', () => lines.some((l) => l.msg === 'worker thread replaced to give back the memory a large input grew'), 30_000, 50);
    const after = await analyzer.analyze(await blank(320, 240));
    assert.equal(after.heapBytes, baseline, 'a fresh thread, with the heap it started with');
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
