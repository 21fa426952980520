// gRPC plumbing shared by the agent (server) and the engine (client): the loaded
// proto, transport credentials (mutual TLS unless explicitly plaintext on loopback),
// and the one mapping between typed errors and gRPC statuses.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ErrorKind, SysprepError } from './errors';
import type { ProtoGrpcType } from './wireTypes';

export const PROTO_PATH = path.resolve(__dirname, '..', '..', 'proto', 'agent.proto');

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let loaded: ProtoGrpcType | undefined;
export function loadProto(): ProtoGrpcType {
  // __dirname is dist/shared when compiled and shared/ under jest: find proto/ from either.
  const candidates = [PROTO_PATH, path.resolve(__dirname, '..', 'proto', 'agent.proto')];
  const file = candidates.find((p) => { try { readFileSync(p); return true; } catch { return false; } })!;
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync(file, LOADER_OPTIONS)) as unknown as ProtoGrpcType;
  return loaded;
}

export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

export function serverCredentials(tls: TlsFiles | null, listenHost: string): grpc.ServerCredentials {
  if (!tls) {
    if (!isLoopback(listenHost)) {
      throw new Error(`plaintext gRPC is allowed only on loopback; refusing to listen on ${listenHost} without TLS`);
    }
    return grpc.ServerCredentials.createInsecure();
  }
  // true: demand a client certificate signed by the CA (mutual TLS, as vdsm does).
  return grpc.ServerCredentials.createSsl(
    readFileSync(tls.caFile),
    [{ private_key: readFileSync(tls.keyFile), cert_chain: readFileSync(tls.certFile) }],
    true,
  );
}

export function channelCredentials(tls: TlsFiles | null, targetHost: string): grpc.ChannelCredentials {
  if (!tls) {
    if (!isLoopback(targetHost)) throw new Error(`plaintext gRPC is allowed only on loopback, not to ${targetHost}`);
    return grpc.credentials.createInsecure();
  }
  return grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

const STATUS_BY_KIND: Record<ErrorKind, grpc.status> = {
  invalid: grpc.status.INVALID_ARGUMENT,
  unsupported: grpc.status.INVALID_ARGUMENT,
  'too-large': grpc.status.RESOURCE_EXHAUSTED,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  denied: grpc.status.PERMISSION_DENIED,
  'not-found': grpc.status.NOT_FOUND,
  conflict: grpc.status.FAILED_PRECONDITION,
  unprocessable: grpc.status.FAILED_PRECONDITION,
  unavailable: grpc.status.UNAVAILABLE,
  failed: grpc.status.ABORTED,
  cancelled: grpc.status.CANCELLED,
  internal: grpc.status.INTERNAL,
};
/** The first kind listed for a status wins (INVALID_ARGUMENT is 'invalid'). */
const KIND_BY_STATUS = new Map<number, ErrorKind>(
  Object.entries(STATUS_BY_KIND).reverse().map(([k, s]) => [s, k as ErrorKind]),
);

/** Typed error -> gRPC status, with the code and details in trailing metadata. */
export function toServiceError(err: SysprepError): Partial<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  metadata.set('reason', err.code);
  metadata.set('details-json', JSON.stringify(err.details));
  const code = err.code === 'ALREADY_EXISTS' ? grpc.status.ALREADY_EXISTS : STATUS_BY_KIND[err.kind];
  return { code, details: err.message, metadata };
}

const KINDS = new Set<string>(Object.keys(STATUS_BY_KIND));

/** Typed error -> CallError, the error of one request inside a stream's reply. */
export function toCallError(err: SysprepError): { kind: string; code: string; message: string; detailsJson: string } {
  return { kind: err.kind, code: err.code, message: err.message, detailsJson: JSON.stringify(err.details) };
}

/** The details of an error on the wire (JSON object text); malformed ones are dropped, the message stays. */
export function parseDetails(json: string | undefined): Record<string, unknown> {
  try {
    return json ? JSON.parse(json) : {};
  } catch {
    return {};
  }
}

/** CallError -> typed error (an unknown kind, from a newer agent, counts as internal). */
export function fromCallError(e: { kind: string; code: string; message: string; detailsJson: string }): SysprepError {
  const kind = (KINDS.has(e.kind) ? e.kind : 'internal') as ErrorKind;
  return new SysprepError(kind, e.code, e.message, parseDetails(e.detailsJson));
}

/** gRPC status -> typed error, on the client side. */
export function fromServiceError(err: grpc.ServiceError): SysprepError {
  const reason = err.metadata?.get('reason')[0]?.toString();
  const detailsJson = err.metadata?.get('details-json')[0]?.toString();
  const kind: ErrorKind =
    err.code === grpc.status.ALREADY_EXISTS ? 'conflict' : KIND_BY_STATUS.get(err.code) ?? 'unavailable';
  const code = reason ?? (kind === 'unavailable' ? 'AGENT_UNAVAILABLE' : grpc.status[err.code]);
  return new SysprepError(kind, code, err.details || err.message, parseDetails(detailsJson));
}
