// The test bed's PKI, made with openssl: one CA for serving and client certificates, and a
// service-account signing key.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './proc.ts';

export interface Pki {
  caCert: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
}

async function signed(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  subj: string,
  ext: string,
) {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const crt = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subj]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '365',
    '-out',
    crt,
    '-extfile',
    extFile,
  ]);
  return { cert: crt, key };
}

const usage = 'keyUsage=critical,digitalSignature,keyEncipherment';

/**
 * A client certificate signed by the CA of the PKI in dir, for a user other than the admin (subject
 * like `/O=group/CN=user`); returns the paths of its certificate and key.
 */
export function clientCert(
  dir: string,
  name: string,
  subject: string,
): Promise<{ cert: string; key: string }> {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  return signed(dir, ca, name, subject, `extendedKeyUsage=clientAuth\n${usage}\n`);
}

export async function makePki(dir: string): Promise<Pki> {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-days',
    '3650',
    '-subj',
    '/CN=tide-testbed-ca',
  ]);
  const [server, admin] = await Promise.all([
    signed(
      dir,
      ca,
      'apiserver',
      '/CN=kube-apiserver',
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n${usage}\n`,
    ),
    clientCert(dir, 'admin', '/O=system:masters/CN=tide-testbed-admin'),
  ]);
  const saKey = join(dir, 'sa.key');
  await run('openssl', ['genrsa', '-out', saKey, '2048']);
  return {
    caCert: ca.cert,
    apiserverCert: server.cert,
    apiserverKey: server.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    saKey,
  };
}
