import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../ops/errors.ts';
import { deleteBuild, deleteUpload, pauseImage, requestBuild, unpauseImage } from '../../ops/images.ts';
import { dibImageRow, imageRow, queryImageDetail, queryImageStatus } from '../../status/image-rows.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams, NameParams, PauseImageBody } from '../contract.ts';

/** The images the configuration builds; without a configuration, those the store knows. */
async function imageNames(deps: RouteDeps): Promise<string[]> {
  const configured = deps.status.config?.diskimages?.map((d) => d.name);
  if (configured) return configured;
  const [flags, builds] = await Promise.all([deps.store.listImageFlags(), deps.store.listBuilds()]);
  return [...new Set([...flags.map((f) => f.image), ...builds.map((b) => b.image)])];
}

/**
 * The builder's records and an operator's orders to it: image status, build now, pause and
 * unpause, delete a build (roll back) or an upload, read a build's log. The orders are written
 * to the store; the builder carries them out.
 */
export function imageRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/v1/images', async () => ({ images: await queryImageStatus(deps.store, await imageNames(deps), deps.now()) }));

  app.get<{ Params: NameParams }>('/api/v1/images/:name', { schema: { params: NameParams } }, async (request) => {
    const users = deps.status.config?.providers.filter((p) => p.diskimages?.some((d) => d.name === request.params.name)).map((p) => p.name);
    const detail = await queryImageDetail(deps.store, await imageNames(deps), request.params.name, deps.now(), users);
    if (!detail) throw new NotFoundError('image', request.params.name);
    return detail;
  });

  app.post<{ Params: NameParams }>('/api/v1/images/:name/build', { schema: { params: NameParams } }, async (request) => {
    const flags = await requestBuild(deps.store, request.params.name, await imageNames(deps), deps.ctx());
    request.log.info({ image: flags.image }, 'image build requested');
    return flags;
  });

  app.post<{ Params: NameParams; Body: PauseImageBody }>('/api/v1/images/:name/pause', { schema: { params: NameParams, body: PauseImageBody } },
    async (request) => pauseImage(deps.store, request.params.name, await imageNames(deps), request.body?.reason ?? null, deps.ctx()));

  app.post<{ Params: NameParams }>('/api/v1/images/:name/unpause', { schema: { params: NameParams } },
    async (request) => unpauseImage(deps.store, request.params.name, await imageNames(deps), deps.ctx()));

  app.delete<{ Params: IdParams }>('/api/v1/builds/:id', { schema: { params: IdParams } }, async (request) => {
    const b = await deleteBuild(deps.store, request.params.id, deps.ctx());
    request.log.warn({ build: b.id, image: b.image }, 'build deleted by an operator');
    return dibImageRow(b, deps.now());
  });

  app.delete<{ Params: IdParams }>('/api/v1/uploads/:id', { schema: { params: IdParams } }, async (request) => {
    const u = await deleteUpload(deps.store, request.params.id, deps.ctx());
    request.log.warn({ upload: u.id, provider: u.provider }, 'upload deleted by an operator');
    return imageRow(u, deps.now());
  });

  /** The build's log as the builder wrote it (on the builder's host: this process must share its disk). */
  app.get<{ Params: IdParams }>('/api/v1/builds/:id/log', { schema: { params: IdParams } }, async (request, reply) => {
    const b = await deps.store.getBuild(request.params.id);
    if (!b) throw new NotFoundError('build', request.params.id);
    const s = b.logPath ? await stat(b.logPath).catch(() => null) : null;
    if (!s?.isFile()) throw new NotFoundError('build', `${b.id} log (not on this host: it is on builder ${b.builder})`);
    // The CLI asks for JSON (its client reads nothing else); a browser or curl gets the text.
    if (/\bapplication\/json\b/.test(request.headers.accept ?? '')) {
      return { id: b.id, image: b.image, builder: b.builder, path: b.logPath, log: await readFile(b.logPath!, 'utf8') };
    }
    return reply.type('text/plain; charset=utf-8').send(createReadStream(b.logPath!));
  });
}
