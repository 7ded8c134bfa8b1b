// Builds the configured spool transport. Every command that touches the spool opens it here, so
// the SFTP retry policy and keepalive of the config apply everywhere.
import type { Config } from '../config/config.js';
import { LdmError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { LocalSpool } from './local.js';
import { SftpSpool } from './sftp.js';
import type { SpoolTransport } from './transport.js';

export function openTransport(config: Config, log?: Logger): SpoolTransport {
  if (config.spool.transport === 'local') return new LocalSpool(config.spool.root);
  if (config.spool.transport === 'sftp') {
    const sftp = config.spool.sftp;
    if (!sftp) throw new LdmError('CONFIG', 'spool.sftp is required when spool.transport is "sftp"', { exitCode: 2 });
    return new SftpSpool(config.spool.root, sftp, { log, retry: sftp.retry, keepaliveIntervalMs: sftp.keepaliveIntervalMs });
  }
  throw new LdmError('TRANSPORT', `unknown spool transport "${String(config.spool.transport)}"; use "local" or "sftp"`, { exitCode: 2 });
}
