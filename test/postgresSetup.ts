import { setup } from './postgresGlobal';
export default setup;
