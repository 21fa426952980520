// The domains the engine itself is defining (clone, import, pools): libvirt reports them
// as "Defined Added" like any other, and LibvirtEventWatcher must leave their reset to the
// action that defines them (it runs the reset itself, before anyone can start the VM).
// The action holds the name from before `virsh define` until its domain carries our
// clone metadata or its reset job exists; the watcher also skips every domain whose XML
// carries that metadata, so either guard is enough.
import { injectable } from 'tsyringe';

@injectable()
export class EngineDefinedDomains {
  private readonly held = new Map<string, number>();

  /** Marks `name` on the daemon `uri` as the engine's own until the returned release is called. */
  hold(uri: string, name: string): () => void {
    const key = `${uri}|${name}`;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(key) ?? 1) - 1;
      if (n > 0) this.held.set(key, n);
      else this.held.delete(key);
    };
  }

  has(uri: string, name: string): boolean {
    return this.held.has(`${uri}|${name}`);
  }
}
