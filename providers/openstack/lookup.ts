/**
 * Helpers shared by the find-by-name-or-id lookups.
 */
import { isCloudError } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Glance and Neutron ids are uuids; a name that looks like one is looked up by id first. */
export function looksLikeUuid(s: string): boolean {
  return UUID.test(s);
}

/** The answer, or null when the service said 404 (the lookup then falls back to the name). */
export async function notFoundIsNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (isCloudError(e, 'not-found')) return null;
    throw e;
  }
}
