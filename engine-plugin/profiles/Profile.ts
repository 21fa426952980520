import type { Params } from '../../shared/catalog/customizations';
import type { OperationSelection } from '../../shared/spec';

export interface Profile {
  name: string;
  description: string;
  builtIn: boolean;
  operations: OperationSelection;
  /** Non-secret params; string values may hold patterns such as `${vm}`. */
  params: Params;
  mode?: 'safe' | 'in_place';
}
