// Not ../context.ts: it loads the API client (axios), which a check never needs.
import { write } from '../output.ts';

/** `nodepool config check [FILE]`: the checker's report; exit 1 when the file has errors. */
export async function configCheck(file: string): Promise<void> {
  const { checkConfigFile } = await import('../../config/check.ts');
  const result = checkConfigFile(file);
  write(result.text);
  if (!result.ok) process.exitCode = 1;
}
