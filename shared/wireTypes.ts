// The wire types, generated from proto/agent.proto by proto-loader-gen-types into
// shared/wire/ at build time (npm run gen:proto). Re-exported here under short names so
// both sides import them from one place.
export type { Job__Output as Job } from './wire/ovirt_sysprep/v1/Job';
export type { JobEvent__Output as JobEvent } from './wire/ovirt_sysprep/v1/JobEvent';
export type { JobEventBatch__Output as JobEventBatch } from './wire/ovirt_sysprep/v1/JobEventBatch';
export type { JobError__Output as JobError } from './wire/ovirt_sysprep/v1/JobError';
export type { Warning__Output as Warning } from './wire/ovirt_sysprep/v1/Warning';
export type { BatchOutcome__Output as BatchOutcome } from './wire/ovirt_sysprep/v1/BatchOutcome';
export type { BatchRef } from './wire/ovirt_sysprep/v1/BatchRef';
export type { Capabilities__Output as Capabilities } from './wire/ovirt_sysprep/v1/Capabilities';
export type { OperationList__Output as OperationList } from './wire/ovirt_sysprep/v1/OperationList';
export type { InspectResult__Output as InspectResult } from './wire/ovirt_sysprep/v1/InspectResult';
export type { CheckDisksResult__Output as CheckDisksResult } from './wire/ovirt_sysprep/v1/CheckDisksResult';
export type { DiskCheck__Output as DiskCheck } from './wire/ovirt_sysprep/v1/DiskCheck';
export type { Disk__Output as Disk } from './wire/ovirt_sysprep/v1/Disk';
export type { StartSysprepRequest } from './wire/ovirt_sysprep/v1/StartSysprepRequest';
/** A StartSysprepRequest as the agent receives it (every field present). */
export type { StartSysprepRequest__Output as ReceivedStartSysprepRequest } from './wire/ovirt_sysprep/v1/StartSysprepRequest';
export type { StartReply__Output as StartReply } from './wire/ovirt_sysprep/v1/StartReply';
export type { JobState__Output as JobState } from './wire/ovirt_sysprep/v1/JobState';
export type { Mode__Output as Mode } from './wire/ovirt_sysprep/v1/Mode';
export type { Struct, Struct__Output as ReceivedStruct } from './wire/google/protobuf/Struct';
export type { Value, Value__Output as ReceivedValue } from './wire/google/protobuf/Value';
export type { HostAgentHandlers } from './wire/ovirt_sysprep/v1/HostAgent';
export type { HostAgentClient } from './wire/ovirt_sysprep/v1/HostAgent';
export type { ProtoGrpcType } from './wire/agent';
