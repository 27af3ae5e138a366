import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { isPermanent } from '../../shared/errors.ts';
import {
  FacebookAuthError,
  FacebookOffsetError,
  FacebookRateLimitError,
  FacebookRejectedError,
  FacebookSessionExpiredError,
  FacebookUnavailableError,
  classifyGraphFailure,
  networkFailure,
  offsetsFromErrorData,
  parseGraphError,
  scrubSecrets,
  type GraphPhase,
} from '../../services/uploader/facebook-errors.ts';
import { MAX_WAIT_MS, regainMinutes, retryAfterFromHeaders, retryAfterHeaderMs } from '../../services/uploader/facebook-usage.ts';

const TOKEN = 'EAAGm0PX4ZCpsBAKZBtoken0123456789';
const NOW = Date.parse('2026-12-01T12:00:00Z');

const headers = (h: Record<string, string> = {}) => new Headers(h);
const graphBody = (error: Record<string, unknown>) => JSON.stringify({ error: { message: 'm', type: 'OAuthException', fbtrace_id: 'AbC123', ...error } });
function classify(httpStatus: number, body: string | undefined, h: Record<string, string> = {}, phase: GraphPhase = 'transfer') {
  return classifyGraphFailure({ phase, httpStatus, body, headers: headers(h), accessToken: TOKEN, now: NOW });
}

test('the throttling codes are rate limits, with the usage headers\' wait or none', () => {
  for (const code of [4, 17, 32, 613, 80001]) {
    const err = classify(400, graphBody({ code }));
    assert.ok(err instanceof FacebookRateLimitError, `code ${code}`);
    assert.equal(err.code, 'FACEBOOK_RATE_LIMITED');
    assert.equal(err.retryAfterMs, undefined);
    assert.ok(!isPermanent(err));
  }
  const buc = JSON.stringify({ '1048576': [{ type: 'pages', call_count: 100, total_cputime: 3, total_time: 9, estimated_time_to_regain_access: 42 }] });
  const err = classify(400, graphBody({ code: 80001 }), { 'X-Business-Use-Case-Usage': buc });
  assert.equal((err as FacebookRateLimitError).retryAfterMs, 42 * 60_000);
  assert.ok(classify(429, graphBody({ code: 100 })) instanceof FacebookRateLimitError, 'HTTP 429 whatever the code');
});

test('an HTTP 400 without a Graph error body is a rate limit (the seed\'s case); other bodiless failures by status', () => {
  for (const body of [undefined, '', 'Bad Request', '<html>oops</html>', '{"error":"text"}', '{}']) {
    const err = classify(400, body);
    assert.ok(err instanceof FacebookRateLimitError, `body ${String(body)}`);
    assert.equal(err.retryAfterMs, undefined);
  }
  assert.equal((classify(400, '', { 'x-page-usage': '{"call_count":100,"estimated_time_to_regain_access":3}' }) as FacebookRateLimitError).retryAfterMs, 180_000);
  assert.ok(classify(502, '<html>Bad gateway</html>') instanceof FacebookUnavailableError);
  assert.ok(classify(401, '') instanceof FacebookAuthError);
  assert.ok(classify(404, '') instanceof FacebookRejectedError);
});

test('expired, invalid and unpermitted tokens are auth errors, permanent', () => {
  const cases: Record<string, unknown>[] = [
    { code: 190 }, { code: 190, error_subcode: 463 }, { code: 190, error_subcode: 467 }, { code: 102 },
    { code: 10 }, { code: 200 }, { code: 299 }, { code: 2500 }, { code: 100, error_subcode: 460 },
  ];
  for (const c of cases) {
    const err = classify(400, graphBody(c));
    assert.ok(err instanceof FacebookAuthError, JSON.stringify(c));
    assert.equal(err.code, 'FACEBOOK_AUTH');
    assert.ok(isPermanent(err));
  }
});

test('a wrong offset carries where to continue; without offsets it is transient', () => {
  const err = classify(400, graphBody({ code: 6001, error_subcode: 1363037, error_data: { start_offset: 95420416, end_offset: 100663296 } }));
  assert.ok(err instanceof FacebookOffsetError);
  assert.deepEqual([err.startOffset, err.endOffset], [95420416, 100663296]);
  const asText = classify(400, graphBody({ code: 6001, error_subcode: 1363037, error_data: '{"start_offset":"5","end_offset":"9"}' }));
  assert.deepEqual([(asText as FacebookOffsetError).startOffset, (asText as FacebookOffsetError).endOffset], [5, 9]);
  assert.ok(classify(400, graphBody({ code: 6001, error_subcode: 1363037 })) instanceof FacebookUnavailableError);
  assert.equal(offsetsFromErrorData({ start_offset: 9, end_offset: 5 }), undefined);
  assert.equal(offsetsFromErrorData({ start_offset: -1, end_offset: 5 }), undefined);
  assert.equal(offsetsFromErrorData('not json'), undefined);
});

test('a timed-out or unknown session is SESSION_EXPIRED after start, and not at start', () => {
  for (const phase of ['transfer', 'finish'] as const) {
    assert.ok(classify(400, graphBody({ code: 6001, error_subcode: 1363030 }), {}, phase) instanceof FacebookSessionExpiredError);
    assert.ok(classify(400, graphBody({ code: 100, error_subcode: 33 }), {}, phase) instanceof FacebookSessionExpiredError);
  }
  const err = classify(400, graphBody({ code: 6001, error_subcode: 1363030 }), {}, 'transfer');
  assert.equal(err.code, 'FACEBOOK_SESSION_EXPIRED');
  assert.ok(!isPermanent(err));
  assert.ok(!(classify(400, graphBody({ code: 6000, error_subcode: 1363030 }), {}, 'start') instanceof FacebookSessionExpiredError));
});

test('temporary errors are transient, chunk errors retried at once, the rest rejected for good', () => {
  for (const c of [{ code: 1 }, { code: 2 }, { code: 6000, is_transient: true }]) {
    const err = classify(400, graphBody(c));
    assert.ok(err instanceof FacebookUnavailableError && !err.network, JSON.stringify(c));
  }
  assert.ok(classify(500, graphBody({ code: 6000 })) instanceof FacebookUnavailableError);
  for (const subcode of [1363033, 1363019]) {
    const err = classify(400, graphBody({ code: 6001, error_subcode: subcode }));
    assert.ok(err instanceof FacebookUnavailableError && err.network, `subcode ${subcode}: retried like a cut connection`);
  }
  for (const c of [{ code: 100 }, { code: 6000, error_subcode: 1363023 }, { code: 6000, error_subcode: 1363022 }, { code: 368 }]) {
    const err = classify(400, graphBody(c), {}, 'start');
    assert.ok(err instanceof FacebookRejectedError, JSON.stringify(c));
    assert.equal(err.code, 'FACEBOOK_REJECTED');
    assert.ok(isPermanent(err));
  }
});

test('messages name the phase, status, code, subcode and trace id, and never the token', () => {
  const err = classify(400, graphBody({ code: 190, error_subcode: 463, message: `Error validating access token ${TOKEN} (access_token=${TOKEN})`, fbtrace_id: 'AxYz' }), {}, 'finish');
  assert.match(err.message, /^Facebook finish failed \(HTTP 400, code 190\/463, OAuthException, fbtrace_id AxYz\): Error validating/);
  for (const text of [err.message, inspect(err), JSON.stringify(err), err.stack ?? '']) assert.ok(!text.includes(TOKEN), text);
  assert.deepEqual((err as FacebookAuthError).graph, { httpStatus: 400, graphCode: 190, graphSubcode: 463, fbtraceId: 'AxYz' });
  const odd = classify(400, graphBody({ code: 100, fbtrace_id: `x ${TOKEN} y` }));
  assert.equal((odd as FacebookRejectedError).graph.fbtraceId, undefined, 'a trace id that is not one is not repeated');
  assert.ok(!odd.message.includes(TOKEN));
});

test('scrubSecrets removes the token, its URL-encoded form and credential-shaped text', () => {
  const weird = 'tok/en+with=chars';
  assert.equal(scrubSecrets(`a ${weird} b ${encodeURIComponent(weird)}`, weird), 'a [redacted] b [redacted]');
  assert.equal(scrubSecrets('GET /v24.0/1?access_token=abc&x=1', TOKEN), 'GET /v24.0/1?access_token=[redacted]&x=1');
  assert.equal(scrubSecrets('Authorization: OAuth abc.def', TOKEN), 'Authorization: OAuth [redacted]');
  assert.equal(scrubSecrets('Bearer xyz', TOKEN), 'Bearer [redacted]');
  assert.equal(scrubSecrets('other token EAAB1234567890abcdefXYZ here', TOKEN), 'other token [redacted] here');
  assert.equal(scrubSecrets('nothing secret', TOKEN), 'nothing secret');
});

test('a network failure keeps the code, drops the original error, and scrubs its message', () => {
  const fetchError = new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ECONNRESET https://graph/x?access_token=${TOKEN}`), { code: 'ECONNRESET' }) });
  (fetchError as unknown as { request: unknown }).request = { headers: { authorization: `OAuth ${TOKEN}` } };
  const err = networkFailure('transfer', fetchError, TOKEN);
  assert.equal(err.code, 'FACEBOOK_UNAVAILABLE');
  assert.ok(err.network);
  assert.equal(err.message, 'Facebook transfer lost the connection (ECONNRESET)');
  assert.notEqual(err.cause, fetchError);
  for (const text of [inspect(err, { depth: 10 }), JSON.stringify(err), String((err.cause as Error).message)]) assert.ok(!text.includes(TOKEN), text);
  const timeout = networkFailure('start', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), TOKEN);
  assert.equal(timeout.message, 'Facebook start timed out');
});

test('usage headers: the longest regain time of any header, Retry-After, garbage ignored', () => {
  assert.equal(regainMinutes('{"1":[{"type":"pages","estimated_time_to_regain_access":7},{"type":"pages","estimated_time_to_regain_access":12}]}'), 12);
  assert.equal(regainMinutes('{"call_count":100,"estimated_time_to_regain_access":"4"}'), 4);
  assert.equal(regainMinutes('{"call_count":100,"estimated_time_to_regain_access":0}'), undefined, '0: that dimension is not throttled');
  assert.equal(regainMinutes('{"call_count":28,"total_time":25,"total_cputime":25}'), undefined);
  assert.equal(regainMinutes('not json'), undefined);
  assert.equal(regainMinutes(null), undefined);
  assert.equal(retryAfterHeaderMs('120'), 120_000);
  assert.equal(retryAfterHeaderMs(new Date(NOW + 90_000).toUTCString(), NOW), 90_000);
  assert.equal(retryAfterHeaderMs(new Date(NOW - 90_000).toUTCString(), NOW), undefined);
  assert.equal(retryAfterHeaderMs('soon'), undefined);
  const h = headers({
    'x-app-usage': '{"call_count":100,"total_time":10,"total_cputime":10}',
    'x-page-usage': '{"call_count":100,"estimated_time_to_regain_access":3}',
    'x-business-use-case-usage': '{"9":[{"type":"pages","estimated_time_to_regain_access":20}]}',
  });
  assert.equal(retryAfterFromHeaders(h, NOW), 20 * 60_000);
  assert.equal(retryAfterFromHeaders(headers({ 'retry-after': '30' }), NOW), 30_000);
  assert.equal(retryAfterFromHeaders(headers(), NOW), undefined);
  assert.equal(retryAfterFromHeaders(headers({ 'x-page-usage': '{"estimated_time_to_regain_access":1e300}' }), NOW), MAX_WAIT_MS, 'capped');
});

test('parseGraphError reads codes given as numbers or digit strings, and nothing else', () => {
  assert.deepEqual(parseGraphError(graphBody({ code: '190', error_subcode: 463, is_transient: 1 })), {
    message: 'm', type: 'OAuthException', code: 190, error_subcode: 463, fbtrace_id: 'AbC123', is_transient: true, error_data: undefined,
  });
  assert.equal(parseGraphError('{"error":null}'), undefined);
  assert.equal(parseGraphError('[1]'), undefined);
  assert.equal(parseGraphError(graphBody({ code: 'x' }))?.code, undefined);
});
