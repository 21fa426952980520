// Profiles: the built-ins (read-only) and the administrators' own, stored in engine.db.
// A stored profile never holds a secret (passwords, keys, scripts): those travel with
// each request and are never written down.
import { inject, injectable } from 'tsyringe';
import { z } from 'zod';
import { SECRET_KEYS } from '../../shared/catalog/customizations';
import { ConflictError, InputError, NotFoundError } from '../../shared/errors';
import { Db, sql } from '../db';
import { validatePatternParams } from '../../shared/catalog/patterns';
import { BUILT_IN_PROFILES } from './builtins';
import type { Profile } from './Profile';

export const PROFILE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

const opList = z.array(z.string()).max(128);
export const profileBodySchema = z
  .object({
    description: z.string().max(1024).default(''),
    operations: z.object({ enable: opList.optional(), disable: opList.optional(), only: opList.optional() }).strict().default({}),
    params: z.record(z.string(), z.unknown()).default({}),
    mode: z.enum(['safe', 'in_place']).optional(),
  })
  .strict();
export type ProfileBody = z.infer<typeof profileBodySchema>;

@injectable()
export class ProfileStore {
  private readonly builtIns = new Map(BUILT_IN_PROFILES.map((p) => [p.name, p]));

  constructor(@inject(Db) private readonly db: Db) {}

  list(): Profile[] {
    const rows = sql(this.db, 'SELECT name, body FROM profiles ORDER BY name').all() as { name: string; body: string }[];
    return [...this.builtIns.values(), ...rows.map((r) => ({ name: r.name, builtIn: false, ...JSON.parse(r.body) }))];
  }

  find(name: string): Profile | undefined {
    const b = this.builtIns.get(name);
    if (b) return b;
    const r = sql(this.db, 'SELECT body FROM profiles WHERE name = ?').get(name) as { body: string } | undefined;
    return r && { name, builtIn: false, ...JSON.parse(r.body) };
  }

  get(name: string, field = 'profile'): Profile {
    const p = this.find(name);
    if (!p) throw new NotFoundError('PROFILE_NOT_FOUND', `no profile "${name}"`, { field });
    return p;
  }

  /**
   * Creates or replaces a user profile. `checkOperations` validates the operation names
   * against the installed tool (the caller passes the agents' merged list).
   */
  put(name: string, parsed: ProfileBody, checkOperations: (sel: ProfileBody['operations']) => void): { profile: Profile; created: boolean } {
    if (!PROFILE_NAME.test(name)) throw new InputError('name', 'must be 1-64 lower-case letters, digits or "-"');
    if (this.builtIns.has(name)) throw new ConflictError('PROFILE_BUILT_IN', `"${name}" is a built-in profile and cannot be changed`);
    for (const key of Object.keys(parsed.params)) {
      if (SECRET_KEYS.has(key)) {
        throw new InputError(`params.${key}`, 'is a secret and is never stored: pass it with each sysprep request instead', 'SECRET_IN_PROFILE');
      }
    }
    validatePatternParams(parsed.params);
    checkOperations(parsed.operations);
    const created = !this.find(name);
    this.db
      .prepare('INSERT INTO profiles (name, body, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at')
      .run(name, JSON.stringify(parsed), new Date().toISOString());
    return { profile: this.get(name), created };
  }

  delete(name: string): void {
    if (this.builtIns.has(name)) throw new ConflictError('PROFILE_BUILT_IN', `"${name}" is a built-in profile and cannot be deleted`);
    if (sql(this.db, 'DELETE FROM profiles WHERE name = ?').run(name).changes === 0) {
      throw new NotFoundError('PROFILE_NOT_FOUND', `no profile "${name}"`, { field: 'name' });
    }
  }
}
