// What a Windows customisation asks of the agent's guestfish session: files placed in the
// guest (from 0600 files the entry planned) and registry edits (merged per hive).
import type { RegistryEdit } from './registry';

export type WindowsStep =
  | { upload: { /** A planned private file. */ local: string; /** Absolute guest path ("/Windows/..."). */ guest: string } }
  | { registry: RegistryEdit[] };
