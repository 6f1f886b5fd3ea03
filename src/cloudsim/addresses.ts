/**
 * Loopback addresses for simulated servers. Each server gets its own 127.A.B.C so that every
 * node can run its own SSH server on the same port, as real VMs do. Addresses are handed out in
 * order and reused only once the range is used up, so a client's cached host key for an address
 * does not meet a different server soon after a delete.
 */
export class AddressPool {
  private next = 0;
  private readonly free: string[] = [];
  private readonly inUse = new Set<string>();
  /** Addresses someone else on this machine already listens on (found at bind time). */
  private readonly foreign = new Set<string>();

  /** @param base the first two octets, e.g. "127.100". */
  constructor(readonly base: string) {
    if (!/^127\.\d{1,3}$/.test(base) || Number(base.split('.')[1]) > 255) {
      throw new Error(`address base ${base} must look like 127.N (a loopback /16)`);
    }
  }

  allocate(): string {
    // C skips .0 and .255 so no address looks like a network or broadcast address.
    while (this.next < 256 * 254) {
      const b = Math.floor(this.next / 254);
      const c = (this.next % 254) + 1;
      this.next++;
      const ip = `${this.base}.${b}.${c}`;
      if (!this.foreign.has(ip)) {
        this.inUse.add(ip);
        return ip;
      }
    }
    const ip = this.free.shift();
    if (!ip) throw new Error(`no free address left in ${this.base}.0.0/16`);
    this.inUse.add(ip);
    return ip;
  }

  release(ip: string): void {
    if (this.inUse.delete(ip)) this.free.push(ip);
  }

  /** The address is taken by another process: never hand it out again. */
  markForeign(ip: string): void {
    this.inUse.delete(ip);
    this.foreign.add(ip);
  }
}
