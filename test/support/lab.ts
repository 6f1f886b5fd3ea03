import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { generateEd25519Key } from '../../src/ssh-keys.ts';

/**
 * Existing hardware for the static driver's tests: real SSH servers on loopback, each with an
 * ed25519 host key of its own, and the configuration of a lab beside a simulated OpenStack cloud.
 */

export interface LabHost { name: string; port: number; publicKey: string; close: () => Promise<void> }

/** An SSH server that lets `zuul` in with any public key; `hostname` answers `name`. */
export async function startLabHost(name = 'host'): Promise<LabHost> {
  const key = generateEd25519Key();
  const server = new ssh2.Server({ hostKeys: [key.privateKey] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' && ctx.username === 'zuul' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('session', (accept) => {
      accept().on('exec', (acc, _rej, info) => {
        const stream = acc();
        stream.write(info.command === 'hostname' ? `${name}\n` : '');
        stream.exit(0);
        stream.end();
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { name, port: (server.address() as AddressInfo).port, publicKey: key.publicKey, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * `providers:` with `sim-a` (OpenStack on the built-in simulator, label ubuntu-jammy, 4 servers)
 * and `vendor-lab` (static, label vendor-gpu) with one entry per host; `hostYaml` adds keys to an
 * entry (its lines indented as the entry's).
 */
export function labProvidersYaml(sshPort: number, hosts: readonly LabHost[], hostYaml: (h: LabHost, i: number) => string = () => ''): string {
  return `providers:
  - name: sim-a
    driver: openstack
    cloud: sim-a
    list-interval: 0.02
    cloud-images:
      - {name: ubuntu-jammy, image-name: ubuntu-22.04, username: zuul}
    pools:
      - name: main
        max-servers: 4
        networks: [private]
        labels:
          - {name: ubuntu-jammy, flavor-name: m1.small, cloud-image: ubuntu-jammy, connection-port: ${sshPort}}
  - name: vendor-lab
    driver: static
    launch-timeout: 5
    pools:
      - name: main
        nodes:
${hosts.map((h, i) => `          - name: 127.0.0.1
            labels: [vendor-gpu]
            connection-port: ${h.port}
${hostYaml(h, i) || `            host-key: "${h.publicKey}"\n`}`).join('')}`;
}
