// Customisation params on the wire (SysprepSpec.params and .secret_params in
// proto/agent.proto): two google.protobuf.Struct fields, split by the catalog's `secret`
// flag, so a new catalog entry never needs a proto change and the agent can tell what it
// may log before it looks at a value. The engine builds them with toWireParams; the agent
// reads them back once with fromWireParams and then validates the result against the
// catalog (resolveSpec) like any other input: it is a trust boundary.
//
// Struct is JSON's data model (object, array, string, number, boolean, null), which is
// what every catalog schema accepts; the conversion below is the whole of the mapping.
import { CUSTOMIZATION_BY_KEY, SECRET_KEYS } from './catalog/customizations';
import { InputError } from './errors';
import type { ReceivedStruct, ReceivedValue, Struct, Value } from './wireTypes';

export type JsonObject = Record<string, unknown>;

/** A JSON value as a google.protobuf.Value (undefined entries of objects are left out). */
function toValue(v: unknown, field: string): Value {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      if (!Number.isFinite(v)) throw new InputError(field, 'must be a finite number');
      return { numberValue: v };
    case 'object':
      return Array.isArray(v)
        ? { listValue: { values: v.map((x, i) => toValue(x, `${field}[${i}]`)) } }
        : { structValue: toStruct(v as JsonObject, field) };
    default:
      throw new InputError(field, `a ${typeof v} cannot be sent to an agent`);
  }
}

export function toStruct(obj: JsonObject, field = 'params'): Struct {
  const fields: Record<string, Value> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) fields[k] = toValue(v, `${field}.${k}`);
  return { fields };
}

function fromValue(v: ReceivedValue): unknown {
  switch (v.kind) {
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'numberValue':
      return v.numberValue;
    case 'structValue':
      return fromStruct(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromValue);
    default:
      return null; // nullValue, or a Value with no kind set (what proto3 sends for null)
  }
}

export function fromStruct(s: ReceivedStruct | null | undefined): JsonObject {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, fromValue(v)]));
}

/** Engine side: the job's params as the two Struct fields of SysprepSpec. */
export function toWireParams(params: JsonObject): { params: Struct; secretParams: Struct } {
  const open: JsonObject = {};
  const secret: JsonObject = {};
  for (const [k, v] of Object.entries(params)) (SECRET_KEYS.has(k) ? secret : open)[k] = v;
  return { params: toStruct(open, 'params'), secretParams: toStruct(secret, 'params') };
}

/**
 * Agent side: the two fields back as one params object, each key in the field its
 * catalog entry says (a secret sent as a plain param is refused: whoever built it would
 * also log it). Keys the catalog does not know are left for resolveSpec to refuse.
 */
export function fromWireParams(spec: { params?: ReceivedStruct | null; secretParams?: ReceivedStruct | null } | null | undefined): JsonObject {
  const open = fromStruct(spec?.params);
  const secret = fromStruct(spec?.secretParams);
  for (const k of Object.keys(open)) {
    if (SECRET_KEYS.has(k)) throw new InputError(`spec.params.${k}`, 'is a secret customisation: it belongs in spec.secret_params');
  }
  for (const k of Object.keys(secret)) {
    if (k in open) throw new InputError(`spec.secret_params.${k}`, 'is also in spec.params');
    if (!SECRET_KEYS.has(k) && CUSTOMIZATION_BY_KEY.has(k)) throw new InputError(`spec.secret_params.${k}`, 'is not a secret customisation: it belongs in spec.params');
  }
  return { ...open, ...secret };
}
