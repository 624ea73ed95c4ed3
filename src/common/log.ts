// One logfmt line per event on stdout: readable by people, parseable by the lab and by log collectors.
export type Fields = Record<string, string | number | boolean | undefined>;

export function log(msg: string, fields: Fields = {}, level: 'info' | 'warn' | 'error' = 'info'): void {
  let line = `level=${level} msg=${quote(msg)}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line += ` ${key}=${quote(String(value))}`;
  }
  process.stdout.write(`${line}\n`);
}

const quote = (value: string): string => (/^[\w.:/@[\]-]+$/.test(value) ? value : JSON.stringify(value));
