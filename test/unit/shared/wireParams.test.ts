// Customisation params on the wire: the two Struct fields of SysprepSpec, split by the
// catalog's secret flag, through the real protobuf encoding (protobufjs, as the gRPC
// loader uses it), and what the agent refuses when a key is in the wrong field.
import * as protobuf from 'protobufjs';
import * as path from 'node:path';
import { fromWireParams, toStruct, toWireParams } from '../../../shared/wireParams';
import { SysprepError } from '../../../shared/errors';

const SysprepSpec = protobuf.loadSync(path.join(__dirname, '../../../proto/agent.proto')).lookupType('ovirt_sysprep.v1.SysprepSpec');
/** Encodes and decodes as @grpc/proto-loader does with shared/grpc.ts's options. */
function overTheWire(spec: object) {
  const bytes = SysprepSpec.encode(SysprepSpec.fromObject(spec)).finish();
  return SysprepSpec.toObject(SysprepSpec.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true }) as never;
}

function refusal(fn: () => unknown): SysprepError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SysprepError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('wire params', () => {
  const params = {
    hostname: 'web-01',
    timezone: 'Europe/Paris',
    rootPassword: { value: 'pw' },
    users: [{ name: 'student', password: { random: true }, sshKeys: ['ssh-ed25519 AAAA x'] }],
    scripts: ['#!/bin/sh\ntrue\n'],
    install: ['nginx', 'curl'],
  };

  it('puts secret keys in secret_params only, and reads back what was sent', () => {
    const wire = toWireParams(params);
    expect(Object.keys(wire.params.fields!).sort()).toEqual(['hostname', 'install', 'timezone']);
    expect(Object.keys(wire.secretParams.fields!).sort()).toEqual(['rootPassword', 'scripts', 'users']);
    const received = overTheWire({ only: ['customize'], ...wire });
    expect(fromWireParams(received)).toEqual(params);
  });

  it.each([
    ['a string', 'x'],
    ['a boolean', false],
    ['a number', 42.5],
    ['null', null],
    ['an empty list', []],
    ['nested objects and lists', { a: [{ b: [1, 'two', true, null] }], c: {} }],
  ])('keeps %s as it was', (_name, value) => {
    const received = overTheWire({ params: toStruct({ v: value }) }) as { params: never };
    expect(fromWireParams({ params: received.params })).toEqual({ v: value });
  });

  it('leaves out undefined entries and refuses what JSON cannot carry', () => {
    expect(toStruct({ a: undefined, b: 1 }).fields).toEqual({ b: { numberValue: 1 } });
    expect(refusal(() => toStruct({ n: Number.NaN })).details.field).toBe('params.n');
  });

  it('refuses a secret sent as a plain param, naming the field', () => {
    const err = refusal(() => fromWireParams(overTheWire({ params: toStruct({ rootPassword: { value: 'pw' } }) })));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.details.field).toBe('spec.params.rootPassword');
  });

  it('refuses a plain param sent as a secret, naming the field', () => {
    const err = refusal(() => fromWireParams(overTheWire({ secretParams: toStruct({ hostname: 'web' }) })));
    expect(err.details.field).toBe('spec.secret_params.hostname');
  });

  it('lets a key the catalog does not know through, for the catalog check to name it', () => {
    expect(fromWireParams(overTheWire({ secretParams: toStruct({ noSuchKey: 1 }) }))).toEqual({ noSuchKey: 1 });
  });

  it('reads no params as an empty object', () => {
    expect(fromWireParams(overTheWire({ only: ['machine-id'] }))).toEqual({});
    expect(fromWireParams(undefined)).toEqual({});
  });
});
