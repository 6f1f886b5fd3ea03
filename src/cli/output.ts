/** Standard output for every command; its own module so a command that prints only loads nothing else. */
export function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
