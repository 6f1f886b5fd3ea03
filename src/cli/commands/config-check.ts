import { write } from '../context.ts';

/** `nodepool config check [FILE]`: the checker's report; exit 1 when the file has errors. */
export async function configCheck(file: string): Promise<void> {
  const { checkConfigFile } = await import('../../config/check.ts');
  const result = checkConfigFile(file);
  write(result.text);
  if (!result.ok) process.exitCode = 1;
}
