// The Setters strategy: which values change is Flux's (the expectations of the first suite are what
// image-automation-controller's kyaml setters changed in the same files), and the files change in
// those values only: each test compares whole files byte for byte.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applySetters,
  markerOf,
  type PolicyImage,
  renderScalar,
  SetterError,
  setterValues,
  updateWithSetters,
} from '../../../controllers/image-automation/setters.ts';
import { yamlBomb } from '../../support/hostile.ts';

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
const policies: PolicyImage[] = [
  { namespace: 'flux-system', name: 'app', latest: { name: 'reg.example:5000/team/app', tag: '1.4.0' } },
  { namespace: 'flux-system', name: 'num', latest: { name: 'reg.example:5000/team/num', tag: '1.10' } },
  {
    namespace: 'flux-system',
    name: 'dig',
    latest: { name: 'reg.example:5000/team/dig', tag: '2.0.0', digest },
  },
];
const setters = setterValues(policies);

/** `before` with each [old, new] substring replaced once: the only differences allowed. */
function only(before: string, edits: [string, string][]): string {
  let out = before;
  for (const [from, to] of edits) {
    assert.ok(out.includes(from), `fixture lacks ${from}`);
    out = out.replace(from, to);
  }
  return out;
}

const deployment = `# Top comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app   # trailing
  namespace: dev
spec:
  template:
    spec:
      containers:
      - name: app
        image: "reg.example:5000/team/app:1.3.0" # {"$imagepolicy": "flux-system:app"}
      - name: side
        image: 'reg.example:5000/team/app:1.3.0' # {"$imagepolicy": "flux-system:app:tag"}
      - name: plain
        image: reg.example:5000/team/app:1.3.0 #   {"$imagepolicy": "flux-system:app"}
      - name: other
        image: reg.example:5000/team/app:1.3.0 # {"$imagepolicy": "flux-system:unknown"}
      - name: extra
        image: reg.example:5000/team/app:1.3.0 # {"$imagepolicy": "flux-system:app"} and more
      - name: headc
        image:
          # {"$imagepolicy": "flux-system:app"}
          reg.example:5000/team/app:1.3.0
      - name: dig
        image: reg/dig:1.0 # {"$imagepolicy": "flux-system:dig"}
        env:
        - name: TAG
          value: "x" # {"$imagepolicy": "flux-system:dig:digest"}
        - # {"$imagepolicy": "flux-system:app:name"}
          old-name
        - old2 # {"$imagepolicy": "flux-system:app:name"}
`;

const multi = `---
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
data:
  tag: 1.9 # {"$imagepolicy": "flux-system:num:tag"}
---
# second
apiVersion: v1
kind: ConfigMap
metadata:
  name: two
data: {
  image: reg/x:1, # {"$imagepolicy": "flux-system:app"}
  other: y
}
list: [a, b] # {"$imagepolicy": "flux-system:app"}
inline: {image: reg/x:1} # {"$imagepolicy": "flux-system:app"}
...
`;

const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
- name: app
  newName: reg.example:5000/team/old # {"$imagepolicy": "flux-system:app:name"}
  newTag: 1.3.0 # {"$imagepolicy": "flux-system:app:tag"}
- name: dig
  digest: sha256:aaaa # {"$imagepolicy": "flux-system:dig:digest"}
`;

const changesOf = (text: string) =>
  applySetters(text, setters)?.changes.map((c) => [
    c.id.kind,
    c.id.name,
    c.change.oldValue,
    c.change.newValue,
    c.change.setter,
  ]);

describe('image-automation/setters: the changes Flux makes, nothing else', () => {
  it('rewrites every marked value of a Deployment in its own quote style, and only those bytes', () => {
    const out = applySetters(deployment, setters);
    assert.ok(out);
    assert.equal(
      out.text,
      only(deployment, [
        ['"reg.example:5000/team/app:1.3.0"', '"reg.example:5000/team/app:1.4.0"'],
        ["'reg.example:5000/team/app:1.3.0'", "'1.4.0'"],
        ['image: reg.example:5000/team/app:1.3.0 #   {', 'image: reg.example:5000/team/app:1.4.0 #   {'],
        ['          reg.example:5000/team/app:1.3.0\n', '          reg.example:5000/team/app:1.4.0\n'],
        ['reg/dig:1.0', `reg.example:5000/team/dig:2.0.0@${digest}`],
        ['"x"', `"${digest}"`],
        ['          old-name', '          reg.example:5000/team/app'],
        ['- old2', '- reg.example:5000/team/app'],
      ]),
    );
    // Flux's change set for this file (kyaml setters over the same text).
    const dep = ['Deployment', 'app'];
    assert.deepEqual(changesOf(deployment), [
      [...dep, 'reg.example:5000/team/app:1.3.0', 'reg.example:5000/team/app:1.4.0', 'flux-system:app'],
      [...dep, 'reg.example:5000/team/app:1.3.0', '1.4.0', 'flux-system:app:tag'],
      [...dep, 'reg.example:5000/team/app:1.3.0', 'reg.example:5000/team/app:1.4.0', 'flux-system:app'],
      [...dep, 'reg.example:5000/team/app:1.3.0', 'reg.example:5000/team/app:1.4.0', 'flux-system:app'],
      [...dep, 'reg/dig:1.0', `reg.example:5000/team/dig:2.0.0@${digest}`, 'flux-system:dig'],
      [...dep, 'x', digest, 'flux-system:dig:digest'],
      [...dep, 'old-name', 'reg.example:5000/team/app', 'flux-system:app:name'],
      [...dep, 'old2', 'reg.example:5000/team/app', 'flux-system:app:name'],
    ]);
  });

  it('keeps the separators, comments and flow style of a multi-document file', () => {
    const out = applySetters(multi, setters);
    assert.ok(out);
    // A YAML 1.1 number written plain becomes a quoted string; a marker after a multi-line flow
    // mapping's entry applies, one after a whole one-line collection does not (as in Flux).
    assert.equal(
      out.text,
      only(multi, [
        ['tag: 1.9 #', 'tag: "1.10" #'],
        ['image: reg/x:1, #', 'image: reg.example:5000/team/app:1.4.0, #'],
      ]),
    );
    assert.deepEqual(changesOf(multi), [
      ['ConfigMap', 'one', '1.9', '1.10', 'flux-system:num:tag'],
      ['ConfigMap', 'two', 'reg/x:1', 'reg.example:5000/team/app:1.4.0', 'flux-system:app'],
    ]);
  });

  it('updates the name, tag and digest of a kustomization.yaml images entry', () => {
    const out = applySetters(kustomization, setters);
    assert.equal(
      out?.text,
      only(kustomization, [
        ['team/old', 'team/app'],
        ['newTag: 1.3.0', 'newTag: 1.4.0'],
        ['sha256:aaaa', digest],
      ]),
    );
    assert.deepEqual(
      out?.changes.map((c) => c.id),
      Array(3).fill({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        name: '',
        namespace: '',
      }),
    );
  });

  it('keeps CRLF line endings and a byte order mark', () => {
    const crlf =
      '\uFEFFkind: ConfigMap\r\ndata:\r\n  image: reg/x:1 # {"$imagepolicy": "flux-system:app"}\r\n  # end\r\n';
    assert.equal(
      applySetters(crlf, setters)?.text,
      crlf.replace('reg/x:1', 'reg.example:5000/team/app:1.4.0'),
    );
  });

  it('changes nothing when the values are already the latest, or no marker names a known policy', () => {
    assert.equal(applySetters('image: x # {"$imagepolicy": "flux-system:nope"}\n', setters), undefined);
    assert.equal(applySetters('tag: 1.4.0 # {"$imagepolicy": "flux-system:app:tag"}\n', setters), undefined);
  });

  it('leaves files that are not YAML alone, and refuses a marked block scalar', () => {
    assert.equal(applySetters('a: [unclosed # {"$imagepolicy": "flux-system:app"}\n', setters), undefined);
    assert.throws(
      () => applySetters('image: | # {"$imagepolicy": "flux-system:app"}\n  reg/x:1\n', setters),
      (err: unknown) => err instanceof SetterError && /block scalar/.test(err.message),
    );
  });

  it('reads markers as Flux does: one JSON object of strings, any number of leading #', () => {
    assert.equal(markerOf(' {"$imagepolicy": "ns:app"}'), 'ns:app');
    assert.equal(markerOf('# {"$imagepolicy": "ns:app:tag"}'), 'ns:app:tag');
    assert.equal(markerOf(' {"$imagepolicy": "ns:app", "x": "y"}'), 'ns:app');
    assert.equal(markerOf(' {"$imagepolicy": "ns:app"} trailing'), undefined);
    assert.equal(markerOf(' {"$imagepolicy": "ns:app", "n": 1}'), undefined);
    assert.equal(markerOf(' {"$imagepolicy": ""}'), undefined);
    assert.equal(markerOf(' first line\n {"$imagepolicy": "ns:app"}'), undefined);
  });

  it('writes a value plain only where YAML 1.1 and 1.2 read it back as the same string', () => {
    assert.equal(renderScalar('reg/app:1.4.0', 'PLAIN', false), 'reg/app:1.4.0');
    for (const v of ['1.10', 'yes', 'on', '1:20', '2024-01-01', 'null', '', '*x', 'a: b', 'a #b'])
      assert.equal(renderScalar(v, 'PLAIN', false), JSON.stringify(v), v);
    assert.equal(renderScalar('a,b', 'PLAIN', true), '"a,b"');
    assert.equal(renderScalar("it's", 'QUOTE_SINGLE', false), "'it''s'");
    assert.equal(renderScalar('q"\\', 'QUOTE_DOUBLE', false), '"q\\"\\\\"');
  });
});

describe('image-automation/setters: files of a work tree', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tide-setters-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const write = async (rel: string, text: string) => {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), text);
  };
  const marked = 'image: reg/x:1 # {"$imagepolicy": "flux-system:app"}\n';

  it('updates *.yaml, *.yml and Kustomization files, not others, not .git, not through symlinks', async () => {
    await write('apps/a.yaml', `kind: A\nmetadata: {name: a}\nspec:\n  ${marked}`);
    await write('apps/b.yml', marked);
    await write('apps/Kustomization', marked);
    await write('apps/c.json', marked);
    await write('.git/d.yaml', marked);
    await write('unmarked.yaml', 'image: reg/x:1\n');
    const outside = await mkdtemp(join(tmpdir(), 'tide-outside-'));
    await writeFile(join(outside, 'e.yaml'), marked);
    await symlink(join(outside, 'e.yaml'), join(root, 'apps', 'link.yaml'));
    const before = await stat(join(root, 'unmarked.yaml'));

    const result = await updateWithSetters(root, policies);
    assert.deepEqual([...result.keys()], ['apps/Kustomization', 'apps/a.yaml', 'apps/b.yml']);
    assert.deepEqual(result.get('apps/a.yaml'), [
      {
        id: { apiVersion: '', kind: 'A', name: 'a', namespace: '' },
        changes: [
          { oldValue: 'reg/x:1', newValue: 'reg.example:5000/team/app:1.4.0', setter: 'flux-system:app' },
        ],
      },
    ]);
    const updated = marked.replace('reg/x:1', 'reg.example:5000/team/app:1.4.0');
    assert.equal(await readFile(join(root, 'apps/b.yml'), 'utf8'), updated);
    for (const untouched of ['apps/c.json', '.git/d.yaml'])
      assert.equal(await readFile(join(root, untouched), 'utf8'), marked);
    assert.equal(await readFile(join(outside, 'e.yaml'), 'utf8'), marked);
    assert.equal((await stat(join(root, 'unmarked.yaml'))).mtimeMs, before.mtimeMs);
    await rm(outside, { recursive: true, force: true });
  });

  it('returns no changes and writes nothing when every value is current', async () => {
    await write('a.yaml', 'image: reg.example:5000/team/app:1.4.0 # {"$imagepolicy": "flux-system:app"}\n');
    const before = await stat(join(root, 'a.yaml'));
    assert.equal((await updateWithSetters(root, policies)).size, 0);
    assert.equal((await stat(join(root, 'a.yaml'))).mtimeMs, before.mtimeMs);
  });

  it('writes nothing when one file cannot be updated safely, and names that file', async () => {
    await write('a.yaml', marked);
    await write('b.yaml', 'image: | # {"$imagepolicy": "flux-system:app"}\n  reg/x:1\n');
    await assert.rejects(
      updateWithSetters(root, policies),
      (err: unknown) => err instanceof SetterError && /^b\.yaml: .*block scalar/.test(err.message),
    );
    assert.equal(await readFile(join(root, 'a.yaml'), 'utf8'), marked);
  });

  it('updates marked values in hostile YAML without expanding it, and leaves what it cannot read byte for byte', async () => {
    const marker = '# {"$imagepolicy": "flux-system:app"}';
    // A billion laughs beside the marked value: aliases are never expanded, the rest stays as it was.
    const bomb = `image: reg/x:1 ${marker}\n${yamlBomb(9)}`;
    await write('bomb.yaml', bomb);
    // Deeper than go-yaml reads, not UTF-8, or not YAML: skipped, as Flux skips what does not parse,
    // and never rewritten.
    const deep = `image: reg/x:1 ${marker}\ndeep: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    await write('deep.yaml', deep);
    const notUtf8 = Buffer.concat([
      Buffer.from(`image: reg/x:1 ${marker}\nv: "`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"\n'),
    ]);
    await writeFile(join(root, 'latin1.yaml'), notUtf8);
    await write('dup.yaml', `image: reg/x:1 ${marker}\nimage: reg/y:1\n`);
    const result = await updateWithSetters(root, policies);
    assert.deepEqual([...result.keys()], ['bomb.yaml']);
    assert.equal(
      await readFile(join(root, 'bomb.yaml'), 'utf8'),
      only(bomb, [['reg/x:1', 'reg.example:5000/team/app:1.4.0']]),
    );
    assert.deepEqual(await readFile(join(root, 'latin1.yaml')), notUtf8);
    assert.equal(await readFile(join(root, 'deep.yaml'), 'utf8'), deep);
    assert.equal(
      await readFile(join(root, 'dup.yaml'), 'utf8'),
      `image: reg/x:1 ${marker}\nimage: reg/y:1\n`,
    );
  });
});
