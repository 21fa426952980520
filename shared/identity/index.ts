// The identity catalogue (issue 15, contract 7): the items and their shape.
export type { IdentityAction, IdentityDoer, IdentityEdit, IdentityItem, ToolCoverage } from './IdentityItem';
export { IDENTITY_ITEMS, IDENTITY_ITEM_BY_NAME, OLDEST_TOOL, SCRIPT_ITEMS } from './items';
