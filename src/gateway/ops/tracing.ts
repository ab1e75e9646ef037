// OpenTelemetry traces, off unless `tracing` is configured: one trace per task, across
//   createTask (SERVER, the tenant's call; a W3C traceparent the tenant sends is its parent)
//   → upstream createTask (CLIENT; its traceparent goes to the provider)
//   → provider callback (SERVER, any instance, later) → tenant delivery (CLIENT, the outbox).
// The callback and delivery spans run long after the createTask span ended, often on another
// instance: the task row keeps the createTask span's traceparent (migration 0011), and they are
// its children, with a link to it as well. Exported over OTLP/HTTP (JSON) in batches.
//
// The provider is the gateway's own, not a process-wide one (several gateways share a process in
// tests and benches), so nothing is registered globally; the span a request is in is carried by
// an AsyncLocalStorage of this module. Attributes are ids, models, codes and states only: never a
// key, a secret, a URL with a token, a prompt or a payload.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, TraceIdRatioBasedSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../../config/index.js';
import type { UpstreamAnswer, UpstreamClient } from '../upstream.js';

export type SpanKindName = 'server' | 'client' | 'internal';

/** A span as the gateway's parts use it. */
export interface GatewaySpan {
  set(attributes: Attributes): void;
  /** Ends it as failed, with the error's class (never its message: it may quote a payload). */
  fail(error: unknown): void;
  end(): void;
  /** Its W3C traceparent. */
  traceparent(): string | undefined;
}

export interface StartOptions {
  kind?: SpanKindName;
  /** A W3C traceparent: the tenant's header, or the one stored on the task row. */
  parent?: string | null;
  /** Also link to the parent (spans that run long after it, elsewhere). */
  linkParent?: boolean;
  attributes?: Attributes;
}

export interface Tracing {
  readonly enabled: boolean;
  start(name: string, options?: StartOptions): GatewaySpan;
  /** Runs `fn` with `span` as the current one (what the upstream spans and the task row take). */
  within<T>(span: GatewaySpan, fn: () => Promise<T>): Promise<T>;
  /** The current span's traceparent, for the task row; undefined outside a span or when off. */
  currentTraceparent(): string | undefined;
  /** The upstream client with a CLIENT span per call, its traceparent sent to the provider. */
  traceUpstream(client: UpstreamClient): UpstreamClient;
  /** Sends what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const KINDS: Record<SpanKindName, SpanKind> = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL };

const noSpan: GatewaySpan = { set: () => undefined, fail: () => undefined, end: () => undefined, traceparent: () => undefined };

const OFF: Tracing = {
  enabled: false,
  start: () => noSpan,
  within: (_span, fn) => fn(),
  currentTraceparent: () => undefined,
  traceUpstream: (client) => client,
  flush: async () => undefined,
  close: async () => undefined,
};

const propagator = new W3CTraceContextPropagator();

/** A traceparent as a context to start a span in; a malformed one is ignored (a new trace). */
function contextOf(traceparent: string | null | undefined) {
  if (!traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

function wrap(span: Span): GatewaySpan {
  return {
    set: (attributes) => span.setAttributes(attributes),
    fail(error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      span.setAttribute('error.type', error instanceof Error ? error.name : typeof error);
    },
    end: () => span.end(),
    traceparent: () => traceparentOf(span),
  };
}

function startSpan(tracer: Tracer, name: string, options: StartOptions = {}): { span: Span; wrapped: GatewaySpan } {
  const parent = contextOf(options.parent);
  const parentSpan = trace.getSpanContext(parent);
  const span = tracer.startSpan(
    name,
    {
      kind: KINDS[options.kind ?? 'internal'],
      attributes: options.attributes,
      ...(options.linkParent && parentSpan ? { links: [{ context: parentSpan }] } : {}),
    },
    parent,
  );
  return { span, wrapped: wrap(span) };
}

export function createTracing(config: Config['tracing']): Tracing {
  if (!config) return OFF;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlpUrl }), { scheduledDelayMillis: config.exportDelayMs })],
  });
  const tracer = provider.getTracer('liangxin-gateway');
  const current = new AsyncLocalStorage<GatewaySpan>();

  async function upstreamCall(name: string, call: (headers: Record<string, string>) => Promise<UpstreamAnswer>): Promise<UpstreamAnswer> {
    const { span, wrapped } = startSpan(tracer, name, { kind: 'client', parent: current.getStore()?.traceparent() });
    const headers: Record<string, string> = {};
    const traceparent = traceparentOf(span);
    if (traceparent) headers.traceparent = traceparent;
    try {
      const answer = await call(headers);
      span.setAttributes({ 'http.response.status_code': answer.httpStatus, 'lxg.upstream.code': answer.code });
      if (answer.code !== 200) span.setStatus({ code: SpanStatusCode.ERROR, message: `body code ${answer.code}` });
      return answer;
    } catch (error) {
      wrapped.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  return {
    enabled: true,
    start: (name, options) => startSpan(tracer, name, options).wrapped,
    within: (span, fn) => current.run(span, fn),
    currentTraceparent: () => current.getStore()?.traceparent(),
    traceUpstream: (client) => ({
      createTask: (apiKey, body, headers) => upstreamCall('upstream createTask', (traced) => client.createTask(apiKey, body, { ...headers, ...traced })),
      recordInfo: (apiKey, taskId, headers) => upstreamCall('upstream recordInfo', (traced) => client.recordInfo(apiKey, taskId, { ...headers, ...traced })),
      close: () => client.close(),
    }),
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
  };
}
