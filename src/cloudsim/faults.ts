/**
 * Injected failures of one cloud: boots that end in ERROR or never leave BUILD, and API calls
 * answered with 5xx or 429. Each is consumed by the next matching boot or call, so a test says
 * exactly how many things go wrong.
 */
import type { ServiceName } from './service.ts';
import type { BootFault, CallFault } from './types.ts';

export const NO_VALID_HOST: BootFault = { code: 500, message: 'No valid host was found. ' };

export class FaultQueue {
  private failBoots: BootFault[] = [];
  private hangBoots = 0;
  private calls: CallFault[] = [];

  failNextBoots(n: number, fault: BootFault = NO_VALID_HOST): void {
    for (let i = 0; i < n; i++) this.failBoots.push({ ...fault });
  }

  hangNextBoots(n: number): void {
    this.hangBoots += n;
  }

  failNextCalls(f: CallFault): void {
    if (f.count > 0) this.calls.push({ ...f, method: f.method?.toUpperCase() });
  }

  /** What the next boot does: failures are taken first, then hangs. */
  takeBootPlan(): { plan: 'boot' | 'fail' | 'hang'; fault?: BootFault } {
    const fault = this.failBoots.shift();
    if (fault) return { plan: 'fail', fault };
    if (this.hangBoots > 0) {
      this.hangBoots--;
      return { plan: 'hang' };
    }
    return { plan: 'boot' };
  }

  /** The injected failure for this call, if one matches (and uses one of its count). */
  takeCall(service: ServiceName, method: string, path: string): CallFault | undefined {
    const i = this.calls.findIndex((f) =>
      (!f.service || f.service === service) && (!f.method || f.method === method) && (!f.pathPattern || f.pathPattern.test(path)));
    if (i < 0) return undefined;
    const f = this.calls[i];
    if (--f.count <= 0) this.calls.splice(i, 1);
    return f;
  }
}

/** The words each service uses for a 5xx or 429 (injected, or a simulator bug). */
export function failureMessage(service: ServiceName, status: number): string {
  if (status === 429) return 'This request was rate-limited.';
  if (status === 503) return 'The server is currently unavailable. Please try again at a later time.';
  switch (service) {
    case 'nova':
      return "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'oslo_db.exception.DBConnectionError'>";
    case 'keystone':
      return 'An unexpected error prevented the server from fulfilling your request.';
    case 'neutron':
      return 'Request Failed: internal server error while processing your request.';
    default:
      return 'The server has either erred or is incapable of performing the requested operation.';
  }
}
