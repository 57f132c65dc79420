import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildArchive } from '../../../controllers/runtime/artifact/archive.ts';
import {
  buildIgnoreFilter,
  createMatcher,
  globToRegExp,
  readPatterns,
} from '../../../controllers/source/sourceignore.ts';
import { listTarGz } from '../artifact/support.ts';

// Excluded paths among `paths` (a trailing `/` marks a directory) under the given ignore text.
function excluded(text: string, paths: string[], domain: string[] = []): string[] {
  const matcher = createMatcher(readPatterns(text, domain));
  return paths.filter((p) => matcher(p.replace(/\/$/, '').split('/'), p.endsWith('/')));
}

describe('source/sourceignore', () => {
  describe('patterns (go-git gitignore semantics)', () => {
    it('matches a name without slash against any path component', () => {
      assert.deepEqual(
        excluded('*.png', ['img.png', 'a/b/img.png', 'x.png/', 'x.png/inside.yaml', 'png', 'a.pngx']),
        ['img.png', 'a/b/img.png', 'x.png/', 'x.png/inside.yaml'],
      );
    });

    it('matches a trailing-slash pattern only against directories, and everything below them', () => {
      assert.deepEqual(
        excluded('.github/', ['.github/', '.github/workflows/ci.yml', 'a/.github/x', '.github']),
        ['.github/', '.github/workflows/ci.yml', 'a/.github/x'],
      );
    });

    it('anchors a pattern with a slash to its directory', () => {
      assert.deepEqual(
        excluded('config/dev', ['config/dev', 'config/dev/x.yaml', 'other/config/dev', 'config/devx']),
        ['config/dev', 'config/dev/x.yaml'],
      );
      assert.deepEqual(excluded('/secret/', ['secret/', 'secret/key', 'app/secret/', 'secret']), [
        'secret/',
        'secret/key',
      ]);
    });

    it('supports ** as a whole component', () => {
      assert.deepEqual(excluded('**/.sops.yaml', ['.sops.yaml', 'a/b/.sops.yaml', 'a/sops.yaml']), [
        '.sops.yaml',
        'a/b/.sops.yaml',
      ]);
      assert.deepEqual(excluded('docs/**', ['docs/', 'docs/a/b.md', 'src/docs/x']), ['docs/', 'docs/a/b.md']);
      assert.deepEqual(excluded('a/**/z.yaml', ['a/z.yaml', 'a/b/c/z.yaml', 'b/z.yaml']), [
        'a/z.yaml',
        'a/b/c/z.yaml',
      ]);
      assert.deepEqual(
        excluded('a**b/x', ['ab/x', 'a/b/x', 'aXb/x']),
        [],
        '** inside a component is not special',
      );
    });

    it('lets the last matching pattern decide, so negations re-include', () => {
      assert.deepEqual(excluded('*.yaml\n!keep.yaml', ['drop.yaml', 'keep.yaml', 'x/keep.yaml']), [
        'drop.yaml',
      ]);
      assert.deepEqual(excluded('!keep.yaml\n*.yaml', ['drop.yaml', 'keep.yaml']), [
        'drop.yaml',
        'keep.yaml',
      ]);
      // Unlike git, a file below an excluded directory can be re-included.
      assert.deepEqual(excluded('vendor/\n!vendor/keep.go', ['vendor/', 'vendor/a.go', 'vendor/keep.go']), [
        'vendor/',
        'vendor/a.go',
      ]);
    });

    it('follows Go filepath.Match for classes and escapes', () => {
      assert.deepEqual(excluded('[ab].txt', ['a.txt', 'b.txt', 'c.txt']), ['a.txt', 'b.txt']);
      assert.deepEqual(excluded('[^ab].txt', ['a.txt', 'c.txt']), ['c.txt']);
      assert.deepEqual(excluded('[a-c]?.txt', ['b1.txt', 'd1.txt', 'b.txt']), ['b1.txt']);
      assert.deepEqual(excluded('\\*.txt', ['*.txt', 'a.txt']), ['*.txt']);
      assert.deepEqual(
        excluded('[!a].txt', ['!.txt', 'a.txt', 'b.txt']),
        ['!.txt', 'a.txt'],
        '! is no negation in Go',
      );
      const punct = 'a-b(c){d}+e|f^g$h.i,j=k@l~m';
      assert.deepEqual(
        excluded(punct, [punct, punct.replace('.', 'x')]),
        [punct],
        'other characters are literal',
      );
      for (const bad of ['[', 'a[', '[]', '[-a]', '[a-]', 'x\\'])
        assert.equal(globToRegExp(bad), undefined, bad);
      assert.deepEqual(excluded('[\nok', ['[', 'ok']), ['ok'], 'a malformed pattern matches nothing');
    });

    it('skips comments and blank lines and trims trailing spaces unless escaped', () => {
      assert.deepEqual(readPatterns('# comment\n\n   \nfoo  \r\nbar\\ ').length, 2);
      assert.deepEqual(excluded('# a.txt\nfoo  ', ['a.txt', 'foo', '# a.txt']), ['foo']);
      assert.deepEqual(excluded('bar\\ ', ['bar ', 'bar']), ['bar ']);
    });

    it('scopes patterns to the directory of their file', () => {
      assert.deepEqual(
        excluded('*.txt', ['a.txt', 'sub/a.txt', 'sub/x/b.txt', 'other/sub/a.txt', 'sub/'], ['sub']),
        ['sub/a.txt', 'sub/x/b.txt'],
      );
    });
  });

  describe('buildIgnoreFilter', () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'tide-sourceignore-'));
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    const REPO = [
      '.git/HEAD',
      '.gitignore',
      '.gitmodules',
      '.github/workflows/ci.yml',
      '.circleci/config.yml',
      '.goreleaser.yml',
      '.travis.yml',
      'codeship-steps.yml',
      'README.md',
      'docs/logo.png',
      'docs/guide.md',
      'release.tar.gz',
      'deploy/app.yaml',
      'deploy/.sops.yaml',
      'deploy/overlays/prod/.flux.yaml',
      'deploy/overlays/prod/patch.yaml',
    ];

    async function seed(extra: Record<string, string> = {}): Promise<void> {
      for (const rel of [...REPO, ...Object.keys(extra)]) {
        await mkdir(dirname(join(root, rel)), { recursive: true });
        await writeFile(join(root, rel), extra[rel] ?? rel);
      }
    }

    // The files that end up in the artifact.
    async function kept(specIgnore?: string): Promise<string[]> {
      const out = `${root}.tar.gz`;
      try {
        await buildArchive(root, out, { filter: await buildIgnoreFilter(root, specIgnore) });
        return (await listTarGz(out)).filter((e) => e.type === 'File').map((e) => e.path);
      } finally {
        await rm(out, { force: true });
      }
    }

    it('does not follow a .sourceignore symlink (to /dev/zero, or to a file outside the checkout)', async () => {
      await seed();
      const outside = await mkdtemp(join(tmpdir(), 'tide-outside-'));
      await writeFile(join(outside, 'patterns'), '*.md\n');
      await symlink('/dev/zero', join(root, '.sourceignore'));
      await mkdir(join(root, 'docs'), { recursive: true });
      await symlink(join(outside, 'patterns'), join(root, 'docs', '.sourceignore'));
      try {
        // As if there were no .sourceignore: the defaults apply, guide.md stays.
        assert.deepEqual((await kept()).sort(), [
          'README.md',
          'deploy/app.yaml',
          'deploy/overlays/prod/patch.yaml',
          'docs/guide.md',
        ]);
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });

    it('excludes VCS files and the defaults when there are no user patterns', async () => {
      await seed();
      assert.deepEqual((await kept()).sort(), [
        'README.md',
        'deploy/app.yaml',
        'deploy/overlays/prod/patch.yaml',
        'docs/guide.md',
      ]);
      assert.deepEqual(
        (await kept('')).sort(),
        (await kept()).sort(),
        'an empty spec.ignore changes nothing',
      );
    });

    it('replaces the defaults, but not the VCS exclusions, with spec.ignore', async () => {
      await seed();
      const got = await kept('/deploy/overlays/\n*.md\n!README.md\n');
      assert.deepEqual(got.sort(), [
        '.circleci/config.yml',
        '.github/workflows/ci.yml',
        '.goreleaser.yml',
        '.travis.yml',
        'README.md',
        'codeship-steps.yml',
        'deploy/.sops.yaml',
        'deploy/app.yaml',
        'docs/logo.png',
        'release.tar.gz',
      ]);
      // As in Flux, the VCS rules come first, so only an explicit negation brings such a file back.
      assert.ok((await kept('!.gitignore')).includes('.gitignore'));
    });

    it('loads .sourceignore files scoped to their directory; spec.ignore comes last', async () => {
      await seed({
        '.sourceignore': '*.md\n',
        'deploy/.sourceignore': '*.yaml\n!app.yaml\n',
        'deploy/notes.md': 'n',
        'other/x.yaml': 'x',
      });
      const got = await kept();
      // A .sourceignore replaces the defaults too (as in Flux): the PNG, CI and release files are back.
      assert.ok(got.includes('docs/logo.png') && got.includes('.github/workflows/ci.yml'), got.join());
      assert.ok(!got.includes('.gitignore') && !got.includes('.git/HEAD'));
      assert.ok(
        !got.includes('README.md') && !got.includes('deploy/notes.md'),
        'root rules reach subdirectories',
      );
      assert.ok(got.includes('deploy/app.yaml'));
      assert.ok(
        !got.includes('deploy/overlays/prod/patch.yaml'),
        'deploy/.sourceignore applies below deploy',
      );
      assert.ok(got.includes('other/x.yaml'), 'deploy/.sourceignore does not apply elsewhere');
      assert.ok(got.includes('deploy/.sourceignore') && got.includes('.sourceignore'));

      const withSpec = await kept('!README.md\ndeploy/app.yaml');
      assert.ok(withSpec.includes('README.md') && !withSpec.includes('deploy/app.yaml'));
    });

    it('re-includes files below an excluded directory', async () => {
      await seed();
      const names = await kept('deploy/\n!deploy/app.yaml\n');
      assert.deepEqual(
        names.filter((n) => n.startsWith('deploy/')),
        ['deploy/app.yaml'],
      );
      assert.ok(!names.some((n) => n.startsWith('.git/')), names.join());
    });
  });
});
