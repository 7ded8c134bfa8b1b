// /metrics with prom-client: the text parses with an independent Prometheus text parser, holds the
// default process and Node.js metrics, and our families (existing names kept) plus the signing
// certificate's expiry, batches in retry and the read model's version and age.
import { describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Metrics } from '../../src/daemon/metrics.js';

const DEFAULT_FAMILIES = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_open_fds',
  'process_max_fds',
  'process_start_time_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_active_handles_total',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];

const OUR_FAMILIES: Record<string, string> = {
  ldm_batch_info: 'GAUGE',
  ldm_files_seen_total: 'COUNTER',
  ldm_files_processed_total: 'COUNTER',
  ldm_files_rejected_total: 'COUNTER',
  ldm_files_failed_total: 'COUNTER',
  ldm_response_lines_total: 'COUNTER',
  ldm_batch_duration_seconds: 'HISTOGRAM',
  ldm_polls_total: 'COUNTER',
  ldm_poll_failures_total: 'COUNTER',
  ldm_last_successful_poll_timestamp_seconds: 'GAUGE',
  ldm_spool_stopped: 'GAUGE',
  ldm_notify_runs_total: 'COUNTER',
  ldm_notification_files_total: 'COUNTER',
  ldm_notifications_total: 'COUNTER',
  ldm_signing_certificate_expiry_timestamp_seconds: 'GAUGE',
  ldm_batches_in_retry: 'GAUGE',
  ldm_read_model_version: 'GAUGE',
  ldm_read_model_age_seconds: 'GAUGE',
  ldm_extracts_written_total: 'COUNTER',
  ldm_extract_attempts_failed_total: 'COUNTER',
  ldm_extracts_given_up_total: 'COUNTER',
  ldm_extracts_in_retry: 'GAUGE',
  ldm_extracts_given_up: 'GAUGE',
};

describe('/metrics (prom-client)', () => {
  it('parses with a Prometheus text parser and has the default process and Node.js metrics', async () => {
    const m = new Metrics('ldm-1', ['fin']);
    const families = parsePrometheusTextFormat(await m.render());
    const names = new Set(families.map((f) => f.name));
    for (const name of DEFAULT_FAMILIES) expect(names.has(name), name).toBe(true);
    const rss = families.find((f) => f.name === 'process_resident_memory_bytes');
    expect(Number(rss?.metrics[0].value)).toBeGreaterThan(1_000_000);
    expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('keeps the existing family names and types, and adds certificate expiry, batches in retry, the read model', async () => {
    const m = new Metrics('ldm-1', ['fin', 'mut']);
    m.recordCertificateExpiry(Date.parse('2027-03-01T00:00:00Z'));
    m.recordInRetry('fin', 2);
    m.setReadModel(7, Date.now() - 90_000);
    m.recordFile({ client: 'fin', file: 'a.xml', outcome: 'FAILED', durationMs: 5, code: 'INTERNAL_ERROR' });
    const text = await m.render();
    const families = parsePrometheusTextFormat(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const [name, type] of Object.entries(OUR_FAMILIES)) expect(byName.get(name)?.type, name).toBe(type);
    // Exactly our families and the default ones: nothing else appears under ldm_.
    expect(families.filter((f) => f.name.startsWith('ldm_')).map((f) => f.name).sort()).toEqual(Object.keys(OUR_FAMILIES).sort());
    const value = (name: string, labels: Record<string, string> = {}): number =>
      Number(byName.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value);
    expect(value('ldm_signing_certificate_expiry_timestamp_seconds')).toBe(Date.parse('2027-03-01T00:00:00Z') / 1000);
    expect(value('ldm_batches_in_retry', { client: 'fin' })).toBe(2);
    expect(value('ldm_batches_in_retry', { client: 'mut' })).toBe(0);
    expect(value('ldm_read_model_version')).toBe(7);
    expect(value('ldm_read_model_age_seconds')).toBeGreaterThanOrEqual(90);
    expect(value('ldm_files_failed_total', { client: 'fin', code: 'INTERNAL_ERROR' })).toBe(1);
    expect(value('ldm_files_processed_total', { client: 'mut', outcome: 'ANSWERED' })).toBe(0);
    // The parser folds labelled histograms into one label-less sample; read those lines as text.
    expect(text).toContain('ldm_batch_duration_seconds_count{client="fin"} 1');
    expect(text).toContain('ldm_batch_duration_seconds_bucket{le="0.05",client="fin"} 1');
    expect(text).toContain('ldm_batch_duration_seconds_count{client="mut"} 0');
  });

  it('scheduled extracts: written, failed attempts, given up, and the backlog, by client (zero from the start for configured extracts)', async () => {
    const m = new Metrics('ldm-1', ['fin', 'mut'], ['fin']);
    const value = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
      const f = parsePrometheusTextFormat(await m.render()).find((x) => x.name === name);
      const s = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
      return s === undefined ? undefined : Number(s.value);
    };
    expect(await value('ldm_extracts_written_total', { client: 'fin' })).toBe(0);
    expect(await value('ldm_extracts_given_up', { client: 'fin' })).toBe(0);
    expect(await value('ldm_extracts_in_retry', { client: 'fin' })).toBe(0);
    m.recordExtractWritten('fin');
    m.recordExtractAttemptFailed('fin', 'EROFS');
    m.recordExtractAttemptFailed('fin', 'EROFS');
    m.recordExtractAttemptFailed('fin', 'CRASHED');
    m.recordExtractGivenUp('fin', 'EROFS');
    m.recordExtractBacklog(new Map([['fin', { inRetry: 1, givenUp: 2 }], ['mut', { inRetry: 0, givenUp: 1 }]]));
    expect(await value('ldm_extracts_written_total', { client: 'fin' })).toBe(1);
    expect(await value('ldm_extract_attempts_failed_total', { client: 'fin', code: 'EROFS' })).toBe(2);
    expect(await value('ldm_extract_attempts_failed_total', { client: 'fin', code: 'CRASHED' })).toBe(1);
    expect(await value('ldm_extracts_given_up_total', { client: 'fin', code: 'EROFS' })).toBe(1);
    expect(await value('ldm_extracts_in_retry', { client: 'fin' })).toBe(1);
    expect(await value('ldm_extracts_given_up', { client: 'fin' })).toBe(2);
    expect(await value('ldm_extracts_given_up', { client: 'mut' })).toBe(1);
    // A client the journal no longer lists goes back to 0; a label never carries an SSIN.
    m.recordExtractBacklog(new Map([['fin', { inRetry: 0, givenUp: 1 }]]));
    expect(await value('ldm_extracts_given_up', { client: 'mut' })).toBe(0);
    expect(await value('ldm_extracts_given_up', { client: 'fin' })).toBe(1);
    m.recordExtractGivenUp('85073003328', 'EROFS');
    const ours = (await m.render()).split('\n').filter((l) => /^(# (HELP|TYPE) )?ldm_extract/.test(l));
    expect(ours.join('\n')).toContain('client="85*******28"');
    expect(ours.join('\n')).not.toMatch(/\d{11}/);
  });

  it('the parser can fail: it refuses a line that is not the text format', () => {
    expect(() => parsePrometheusTextFormat('# TYPE x counter\nx{client="fin" 1\n')).toThrow();
  });

  it('a read model not loaded yet: its series are absent, not zero', async () => {
    const families = parsePrometheusTextFormat(await new Metrics('ldm-1', []).render());
    expect(families.find((f) => f.name.startsWith('ldm_read_model'))).toBeUndefined();
  });

  it('two instances in one process keep separate series', async () => {
    const a = new Metrics('a', ['fin']);
    const b = new Metrics('b', ['fin']);
    a.recordSeen('fin', 3);
    expect(await b.render()).toContain('ldm_files_seen_total{client="fin"} 0');
    expect(await a.render()).toContain('ldm_files_seen_total{client="fin"} 3');
  });
});
