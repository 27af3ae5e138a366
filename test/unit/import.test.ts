import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraSettings, framesSize, parseHookData } from '../../services/cli/import/hook-data.ts';
import { compileNamePattern, matchVideoName, parseExtensions, wantedExtension } from '../../services/cli/import/name-pattern.ts';
import { planShards, shardStatus } from '../../services/cli/import/shard-plan.ts';
import { createProgress } from '../../services/cli/commands/import-progress.ts';

test('--regex: Python and JavaScript named groups alike; back-references and lookaround are refused naming what was found', () => {
  for (const src of ['.*/(?P<camera>\\w+?)\\-(?P<epoch>\\d+)\\.mp4', '.*/(?<camera>\\w+?)\\-(?<epoch>\\d+)\\.mp4']) {
    assert.deepEqual(matchVideoName(compileNamePattern(src), 'a/cam1-15.mp4', '/in/a/cam1-15.mp4', 'mp4'), { ok: true, video: { camera: 'cam1', epoch: 15, key: 'cam1/15.mp4' } }, src);
  }
  for (const [src, what] of [
    ['(?P<camera>a)(?P=camera)(?P<epoch>1)', '(?P=camera)'],
    ['(?<camera>a)\\k<camera>(?<epoch>1)', '\\k<camera>'],
    ['(?<camera>(a))\\1(?<epoch>1)', '\\1'],
    ['(?<camera>a)(?=b)(?<epoch>1)', '(?='],
    ['(?<camera>a)(?!b)(?<epoch>1)', '(?!'],
    ['(?<camera>a)(?<=b)(?<epoch>1)', '(?<='],
    ['(?<camera>a)(?<!b)(?<epoch>1)', '(?<!'],
  ] as const) {
    assert.throws(() => compileNamePattern(src), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_IMPORT_REGEX', src);
      assert.match(err.message, /back-references and lookaround are not supported/, src);
      assert.ok(err.message.includes(what), `${src}: ${err.message}`);
      return true;
    });
  }
  // Escaped, they are literal characters, not syntax.
  assert.equal(matchVideoName(compileNamePattern('\\(\\?=(?<camera>a)-(?<epoch>1)\\.mp4'), '(?=a-1.mp4', '/in/(?=a-1.mp4', 'mp4').ok, true);
});

test('--regex: a catastrophic pattern ((a+)+ on a long name) is matched in linear time, at once', () => {
  const re = compileNamePattern('(?<camera>(a+)+)-(?<epoch>\\d+)\\.mp4');
  for (const n of [26, 34, 100_000]) {
    const name = `${'a'.repeat(n)}.mp4`;
    const t0 = performance.now();
    const r = matchVideoName(re, name, `/in/${name}`, 'mp4');
    const ms = performance.now() - t0;
    assert.deepEqual(r, { ok: false, reason: 'the name does not match --regex' });
    assert.ok(ms < 500, `${n} characters took ${ms.toFixed(0)} ms`);
  }
});

test('the regex needs both groups and must compile; it matches the whole relative path, else the absolute one', () => {
  assert.throws(() => compileNamePattern('(?P<camera>\\w+)'), { code: 'BAD_IMPORT_REGEX', message: /named group "epoch"/ });
  assert.throws(() => compileNamePattern('(?P<camera>\\w+'), { code: 'BAD_IMPORT_REGEX', message: /not a valid regular expression/ });
  const seed = compileNamePattern('.*/(?P<camera>\\w+?)\\-(?P<epoch>\\d+)\\.mp4');
  assert.deepEqual(matchVideoName(seed, 'a/b/cam1-1511893800.mp4', '/in/a/b/cam1-1511893800.mp4', 'mp4'), {
    ok: true,
    video: { camera: 'cam1', epoch: 1511893800, key: 'cam1/1511893800.mp4' },
  });
  // At the top of the folder the relative path has no slash: the absolute path matches.
  assert.equal(matchVideoName(seed, 'cam1-1511893800.mp4', '/in/cam1-1511893800.mp4', 'mp4').ok, true);
  // Anchored: a match inside the name is not a match.
  const bare = compileNamePattern('(?<camera>\\w+?)-(?<epoch>\\d+)\\.mp4');
  assert.deepEqual(matchVideoName(bare, 'x/cam1-1.mp4', '/in/x/cam1-1.mp4', 'mp4'), { ok: false, reason: 'the name does not match --regex' });
  assert.equal(matchVideoName(bare, 'cam1-1.mp4', '/in/cam1-1.mp4', 'mp4').ok, true);
});

test('camera and epoch must make a safe key: nothing is guessed', () => {
  const loose = compileNamePattern('(?<camera>.+)_(?<epoch>.+)\\.(avi|AVI)');
  const m = (name: string) => matchVideoName(loose, name, `/in/${name}`, name.slice(-3));
  assert.deepEqual(m('cam.1_1511893800.AVI'), { ok: true, video: { camera: 'cam.1', epoch: 1511893800, key: 'cam.1/1511893800.avi' } });
  for (const bad of ['../x_1.avi', 'a/b_1.avi', '.._1.avi', 'cam\u202e1_1.avi', 'cam 1_1.avi', `${'c'.repeat(129)}_1.avi`]) {
    const r = m(bad);
    assert.equal(r.ok, false, bad);
    assert.match(!r.ok ? r.reason : '', /camera name/, bad);
  }
  for (const bad of ['cam1_-5.avi', 'cam1_1.5.avi', 'cam1_1511893800000.avi', 'cam1_x.avi']) {
    const r = m(bad);
    assert.equal(r.ok, false, bad);
    assert.match(!r.ok ? r.reason : '', /epoch/, bad);
  }
  // The message states the rule that refused the value: a 12-digit epoch past 9999 is refused
  // for its value, not for its digits.
  for (const bad of ['cam1_999999999999.avi', 'cam1_1511893800000.avi']) {
    const r = m(bad);
    assert.equal(r.ok, false, bad);
    assert.doesNotMatch(!r.ok ? r.reason : '', /at most 12 digits/, bad);
    assert.match(!r.ok ? r.reason : '', /at most 253402300799 \(9999-12-31T23:59:59Z\)/, bad);
  }
  assert.equal(m('cam1_253402300799.avi').ok, true);
  // Leading zeros name the same second.
  assert.deepEqual(m('cam1_0042.avi'), { ok: true, video: { camera: 'cam1', epoch: 42, key: 'cam1/42.avi' } });
});

test('--ext: a sorted, de-duplicated list of lower-case extensions; files are chosen case-insensitively', () => {
  assert.deepEqual(parseExtensions('mp4, .AVI,avi'), ['avi', 'mp4']);
  assert.throws(() => parseExtensions(' , '), { code: 'BAD_IMPORT_REGEX' });
  assert.throws(() => parseExtensions('mp4,../x'), { code: 'BAD_IMPORT_REGEX' });
  assert.equal(wantedExtension('a.MP4', ['mp4']), 'mp4');
  assert.equal(wantedExtension('.mp4', ['mp4']), undefined);
  assert.equal(wantedExtension('a.mkv', ['mp4']), undefined);
});

test('hook data: per-camera values over global ones, field by field; frames from img_x_size × img_y_size', () => {
  const hook = parseHookData(
    JSON.stringify({
      plan: 'plus',
      img_y_size_extraction: 1080,
      img_x_size_cover: 1920,
      img_y_size_cover: 1080,
      img_x_size: 640,
      img_y_size: 360,
      cameras: { cam1: { plan: 'pro', img_x_size: 1280, img_y_size: 720 }, cam2: { img_y_size: 1440 } },
    }),
    'test',
  );
  const cam1 = cameraSettings(hook, 'cam1');
  assert.deepEqual([cam1.plan, cam1.img_x_size, cam1.img_y_size, cam1.img_x_size_cover], ['pro', 1280, 720, 1920]);
  assert.deepEqual(framesSize(cam1), { width: 1280, height: 720 });
  assert.deepEqual(framesSize(cameraSettings(hook, 'other')), { width: 640, height: 360 });
  // The seed's rule: extraction is raised to the larger image height.
  assert.equal(cameraSettings(hook, 'cam2').img_y_size_extraction, 1440);
  // Only the extraction height: it is the frames' height, the width left to the transcoder.
  assert.deepEqual(framesSize(cameraSettings(parseHookData('{"img_y_size_extraction":480}', 't'), 'x')), { height: 480 });
  assert.equal(framesSize(cameraSettings(undefined, 'x')), undefined);
  // `cameras` names are data, not prototype keys.
  assert.deepEqual(framesSize(cameraSettings(parseHookData('{"img_x_size":320}', 't'), 'constructor')), { width: 320 });
});

test('hook data: bad JSON, unknown names and bad sizes are refused naming the field', () => {
  assert.throws(() => parseHookData('{', '--hook-data-json'), { code: 'BAD_HOOK_DATA', message: /--hook-data-json is not valid JSON/ });
  assert.throws(() => parseHookData('{"img_x_sise":640}', 'h'), { code: 'BAD_HOOK_DATA', message: /h: \(top level\): Unrecognized key.*img_x_sise/ });
  assert.throws(() => parseHookData('{"cameras":{"cam1":{"img_y_size":0}}}', 'h'), { message: /h: cameras\.cam1\.img_y_size: / });
  assert.throws(() => parseHookData('{"plan":"gold"}', 'h'), { message: /h: plan: / });
});

test('shard planning: the last shard is filled first, then new ones; old files never move', () => {
  assert.deepEqual(planShards([], 5, 2), { assignments: [0, 0, 1, 1, 2], shards: [{ index: 0, itemCount: 2 }, { index: 1, itemCount: 2 }, { index: 2, itemCount: 1 }] });
  assert.deepEqual(planShards([{ index: 0, itemCount: 2 }, { index: 1, itemCount: 1 }], 2, 2), {
    assignments: [1, 2],
    shards: [{ index: 1, itemCount: 2 }, { index: 2, itemCount: 1 }],
  });
  // A shard larger than a later, smaller size is left as it is.
  assert.deepEqual(planShards([{ index: 0, itemCount: 5 }], 1, 2), { assignments: [1], shards: [{ index: 1, itemCount: 1 }] });
  assert.deepEqual(planShards([{ index: 0, itemCount: 1 }], 0, 2), { assignments: [], shards: [] });
  assert.throws(() => planShards([], 1, 0), RangeError);
});

test('a shard\'s status from its files\' (and a job\'s from its shards\'): failed, then uploading, then missing, else uploaded', () => {
  const c = (missing: number, uploading: number, uploaded: number, failed: number) => ({ missing, uploading, uploaded, failed });
  assert.equal(shardStatus(c(0, 0, 3, 0)), 'uploaded');
  assert.equal(shardStatus(c(1, 0, 2, 0)), 'missing');
  assert.equal(shardStatus(c(1, 1, 1, 0)), 'uploading');
  assert.equal(shardStatus(c(0, 1, 1, 1)), 'failed');
});

test('progress: plain lines without a terminal, a bar redrawn in place on one', () => {
  let plain = '';
  const p = createProgress((t) => (plain += t), false, { files: 2, bytes: 2e6 });
  p.note('passed over x.mp4: the name does not match --regex');
  p.fileDone('uploaded', 'uploaded a.mp4 as cam1/1.mp4', 1e6);
  p.fileDone('failed', 'failed b.mp4: refused', 1e6);
  p.end();
  assert.equal(plain, 'passed over x.mp4: the name does not match --regex\nuploaded a.mp4 as cam1/1.mp4\nfailed b.mp4: refused\n');
  let tty = '';
  const b = createProgress((t) => (tty += t), true, { files: 2, bytes: 2e6 });
  b.fileDone('uploaded', 'uploaded a.mp4 as cam1/1.mp4', 1e6);
  b.fileDone('failed', 'failed b.mp4: refused', 1e6);
  b.end();
  assert.ok(!tty.includes('uploaded a.mp4'), 'uploads only move the bar');
  assert.match(tty, /\r\x1b\[2Kfailed b\.mp4: refused\n/);
  assert.match(tty, /\[#{30}\] 2\/2 files 2\.0 MB\/2\.0 MB [\d.]+ MB\/s\n$/);
});

test('progress: file names are printed escaped: terminal escapes, C1 controls, bidi overrides and newlines cannot reach the terminal', () => {
  const hostile = 'a\x1b]0;owned\x07b\x1b[2Jc\nd\re\x9b31mf\u202eg\u2066h\u2028i.mp4';
  const escaped = 'a\\u001b]0;owned\\u0007b\\u001b[2Jc\\nd\\re\\u009b31mf\\u202eg\\u2066h\\u2028i.mp4';
  let plain = '';
  const p = createProgress((t) => (plain += t), false, { files: 1, bytes: 1 });
  p.note(`passed over ${hostile}: the name does not match --regex`);
  p.fileDone('failed', `failed ${hostile}: refused`, 1);
  p.end();
  assert.equal(plain, `passed over ${escaped}: the name does not match --regex\nfailed ${escaped}: refused\n`);
  let tty = '';
  const b = createProgress((t) => (tty += t), true, { files: 1, bytes: 1 });
  b.note(`passed over ${hostile}: x`);
  b.fileDone('later', `skipped ${hostile}: y`, 1);
  b.end();
  // The bar's own controls (CR, erase line) are the only ones left.
  assert.doesNotMatch(tty.replaceAll('\r\x1b[2K', ''), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  assert.equal(tty.split('\n').length - 1, 3, 'one line per note, one per file, one at the end');
});
