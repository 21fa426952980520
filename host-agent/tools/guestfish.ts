// guestfish for the Windows customisations' session, stopped as virt-sysprep is.
import { GroupTool } from './groupTool';

export class Guestfish extends GroupTool {
  constructor(bin: string) {
    super('guestfish', bin);
  }
}
