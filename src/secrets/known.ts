/**
 * Clear values of the secrets this process has unsealed or been given. The logger scrubs every
 * line it writes of them, so a secret that reaches a message by some path the redaction paths
 * do not name (an error text, an unexpected field) is still never written.
 */

const MIN_LENGTH = 4;
/** Each secret long enough to scrub, with its JSON-escaped form (the same string when nothing escapes). */
const secrets = new Map<string, string>();
/** Every value remembered, short ones too: a configuration message never repeats any of them. */
const remembered = new Set<string>();

/** Remembers a clear value; values shorter than 4 characters are too common to scrub from logs safely. */
export function rememberSecret(clear: string): void {
  remembered.add(clear);
  if (clear.length >= MIN_LENGTH) secrets.set(clear, JSON.stringify(clear).slice(1, -1));
}

/** Whether `value` is the clear text of a secret this process has opened or been given. */
export function wasOpened(value: string): boolean {
  return remembered.has(value);
}

export function knownSecretCount(): number {
  return secrets.size;
}

/** `text` with every remembered secret (and its JSON-escaped form) replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const [s, escaped] of secrets) {
    if (out.includes(s)) out = out.split(s).join('[redacted]');
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join('[redacted]');
  }
  return out;
}
