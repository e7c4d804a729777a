import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { startOtlpSink, type OtlpSink } from '../../bench/otlp-sink';
import { REPO_ROOT } from '../../scripts/repo-paths';

const execFileAsync = promisify(execFile);

function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('OTLP sink (the stand-in for the collector sidecar)', () => {
  let sink: OtlpSink;
  beforeEach(async () => {
    sink = await startOtlpSink();
  });
  afterEach(() => sink.close());

  it('accepts and counts what the real OTLP/HTTP trace exporter sends, and the exporter reports success', async () => {
    // In its own process, as in the service (the exporter loads its transport with a dynamic import jest cannot run).
    const script = `
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
      const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
      const exporter = new OTLPTraceExporter({ url: process.argv[1] + '/v1/traces' });
      const codes = [];
      const original = exporter.export.bind(exporter);
      exporter.export = (spans, done) => original(spans, (result) => { codes.push(result.code); done(result); });
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const tracer = provider.getTracer('bench-test');
      for (let i = 0; i < 5; i++) tracer.startSpan('span ' + i).end();
      provider.forceFlush().then(() => provider.shutdown()).then(() => process.stdout.write(JSON.stringify(codes)));
    `;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script, sink.url], { cwd: REPO_ROOT, timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual([0, 0, 0, 0, 0]); // ExportResultCode.SUCCESS for each span
    expect(sink.counts()).toMatchObject({ exports: 5, spans: 5, rejected: 0 });
    expect(sink.counts().bytes).toBeGreaterThan(0);
  });

  it('answers in the request encoding: {} for JSON, an empty protobuf message for protobuf; gzip bodies are decoded', async () => {
    const payload = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{}, {}] }, { spans: [{}] }] }] });
    const json = await post(`${sink.url}/v1/traces`, zlib.gzipSync(payload), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(json).toEqual({ status: 200, type: 'application/json', body: '{}' });
    const proto = await post(`${sink.url}/v1/traces`, Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    expect(proto).toEqual({ status: 200, type: 'application/x-protobuf', body: '' });
    expect(sink.counts()).toMatchObject({ exports: 2, spans: 3, rejected: 0 });
  });

  it('rejects what a collector would: undecodable bodies (400), unknown paths (404), other encodings (400)', async () => {
    expect((await post(`${sink.url}/v1/traces`, '{not json', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post(`${sink.url}/v1/traces`, 'x', { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post(`${sink.url}/v1/other`, '{}', { 'content-type': 'application/json' })).status).toBe(404);
    expect((await post(`${sink.url}/v1/traces`, 'x', { 'content-type': 'text/plain' })).status).toBe(400);
    expect(sink.counts()).toMatchObject({ exports: 0, spans: 0, rejected: 4 });
  });
});
