/** A host and port, and how to print one (IPv6 hosts in brackets). */
export interface HostPort {
  host: string;
  port: number;
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
