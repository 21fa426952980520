import type { Request } from 'express';
import { InputError } from '../../shared/errors';
import type { ListQuery } from '../inventory/Inventory';

export const LIST_QUERY = ['search', 'limit', 'cursor'];

export function listQuery(req: Request): ListQuery {
  const q = req.query;
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  const limit = str('limit');
  if (limit !== undefined && !/^\d{1,4}$/.test(limit)) throw new InputError('limit', 'must be a number from 1 to 1000');
  return { search: str('search'), limit: limit ? Number(limit) : undefined, cursor: str('cursor') };
}
