// `npm run bench`: every benchmark, each printing a table with its baseline measured in
// the same run. `npm run bench -- runtime` runs the named ones only.
import { benchCli } from './cli.bench.ts';
import { benchConsole } from './console.bench.ts';
import { benchFaceAccuracy } from './face-accuracy.bench.ts';
import { benchFacestreaming } from './facestreaming.bench.ts';
import { benchFacetraining } from './facetraining.bench.ts';
import { benchGallery } from './gallery.bench.ts';
import { benchImport } from './import.bench.ts';
import { benchRuntime } from './runtime.bench.ts';
import { benchScale } from './scale.bench.ts';
import { benchTranscoder } from './transcoder.bench.ts';
import { benchUploader } from './uploader.bench.ts';

const BENCHES: Record<string, () => Promise<void>> = {
  runtime: benchRuntime,
  facetraining: benchFacetraining,
  facestreaming: benchFacestreaming,
  gallery: benchGallery,
  transcoder: benchTranscoder,
  uploader: benchUploader,
  'face-accuracy': benchFaceAccuracy,
  import: benchImport,
  cli: benchCli,
  scale: benchScale,
  console: benchConsole,
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  await run();
}
