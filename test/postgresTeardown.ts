import { teardown } from './postgresGlobal';
export default teardown;
