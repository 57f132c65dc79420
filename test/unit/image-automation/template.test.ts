// The commit message renderer against Go: every row's expectation is what Go 1.26's text/template
// with Sprig v3.3.0's HermeticTxtFuncMap (Flux's renderer) produced for the same template and data
// (two changes in two files, values cluster=prod and team=a), byte for byte, errors included.
import assert from 'node:assert/strict';
import type { UpdateResult } from '../../../controllers/image-automation/setters.ts';
import { templateData } from '../../../controllers/image-automation/template/data.ts';
import { compileTemplate, TemplateExecError } from '../../../controllers/image-automation/template/exec.ts';
import { TemplateSyntaxError } from '../../../controllers/image-automation/template/lex.ts';
import { UnsupportedTemplateError } from '../../../controllers/image-automation/template/parse.ts';

const result: UpdateResult = new Map([
  [
    'apps/backend/deployment.yaml',
    [
      {
        id: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'backend', namespace: 'dev' },
        changes: [{ oldValue: 'reg/app:1.3.0', newValue: 'reg/app:1.4.0', setter: 'flux-system:app' }],
      },
    ],
  ],
  [
    'apps/kustomization.yaml',
    [
      {
        id: { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', name: '', namespace: '' },
        changes: [{ oldValue: '1.3.0', newValue: '1.4.0', setter: 'flux-system:app:tag' }],
      },
    ],
  ],
]);
const data = () =>
  templateData({ namespace: 'flux-system', name: 'auto' }, result, { cluster: 'prod', team: 'a' });

/** 'OK <output>', 'PARSE <error>' or 'EXEC <error>', as the Go oracle printed it. */
function outcome(template: string): string {
  try {
    return `OK ${compileTemplate('commit message', template).render(data())}`;
  } catch (err) {
    if (err instanceof TemplateSyntaxError) return `PARSE ${err.message}`;
    if (err instanceof TemplateExecError) return `EXEC ${err.message}`;
    throw err;
  }
}

describe('image-automation/template: Go text/template with Sprig, as Flux renders commit messages', () => {
  const table: [string, 'OK' | 'PARSE' | 'EXEC', string][] = [
    ['Update from image update automation', 'OK', 'Update from image update automation'],
    [
      'Automated image update\n\nAutomation name: {{ .AutomationObject }}\n\nFiles:\n{{ range $filename, $_ := .Changed.FileChanges -}}\n- {{ $filename }}\n{{ end -}}\n\nObjects:\n{{ range $resource, $changes := .Changed.Objects -}}\n- {{ $resource.Kind }} {{ $resource.Name }}\n  Changes:\n{{- range $_, $change := $changes }}\n    - {{ $change.OldValue }} -> {{ $change.NewValue }}\n{{ end -}}\n{{ end -}}\n',
      'OK',
      'Automated image update\n\nAutomation name: flux-system/auto\n\nFiles:\n- apps/backend/deployment.yaml\n- apps/kustomization.yaml\nObjects:\n- Deployment backend\n  Changes:\n    - reg/app:1.3.0 -> reg/app:1.4.0\n- Kustomization \n  Changes:\n    - 1.3.0 -> 1.4.0\n',
    ],
    [
      'Automated image update\n\nAutomation name: {{ .AutomationObject }}\n\nFiles:\n{{ range $filename, $_ := .Changed.FileChanges -}}\n- {{ $filename }}\n{{ end -}}\n\nObjects:\n{{ range $resource, $changes := .Changed.Objects -}}\n- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}\n  Changes:\n{{- range $_, $change := $changes }}\n  {{ if contains "1.4.0" $change.NewValue -}}\n    - {{ $change.OldValue }} -> {{ $change.NewValue }}\n  {{ else -}}\n    [skip ci] wrong image\n  {{ end -}}\n{{ end -}}\n{{ end -}}\n',
      'OK',
      'Automated image update\n\nAutomation name: flux-system/auto\n\nFiles:\n- apps/backend/deployment.yaml\n- apps/kustomization.yaml\nObjects:\n- deployment backend\n  Changes:\n  - reg/app:1.3.0 -> reg/app:1.4.0\n  - kustomization \n  Changes:\n  - 1.3.0 -> 1.4.0\n  ',
    ],
    [
      'cluster={{ .Values.cluster }} missing={{ .Values.nope }} {{ if .Values.nope }}yes{{ else }}no{{ end }}',
      'OK',
      'cluster=prod missing=<no value> no',
    ],
    [
      '{{ len .Changed.Changes }} changes in {{ len .Changed.FileChanges }} files; {{ len .Values }} values',
      'OK',
      '2 changes in 2 files; 2 values',
    ],
    [
      '{{ range .Changed.Changes }}{{ .Setter }}: {{ .OldValue }} => {{ .NewValue }}\n{{ else }}none{{ end }}',
      'OK',
      'flux-system:app: reg/app:1.3.0 => reg/app:1.4.0\nflux-system:app:tag: 1.3.0 => 1.4.0\n',
    ],
    [
      '{{ range .Values.missingList }}x{{ else }}empty{{ end }}|{{ range $k, $v := .Values }}{{ $k }}={{ $v }};{{ end }}',
      'OK',
      'empty|cluster=prod;team=a;',
    ],
    [
      '{{ with .Values.cluster }}on {{ . }}{{ else }}nowhere{{ end }} {{ with .Values.nope }}x{{ else with .Values.cluster }}fallback {{ . }}{{ end }}',
      'OK',
      'on prod fallback prod',
    ],
    [
      '{{ $n := len .Changed.Changes }}{{ if eq $n 0 }}zero{{ else if eq $n 1 }}one{{ else if lt $n 5 }}few{{ else }}many{{ end }}',
      'OK',
      'few',
    ],
    [
      '{{ $first := "" }}{{ range $i, $c := .Changed.Changes }}{{ if eq $i 0 }}{{ $first = $c.NewValue }}{{ end }}{{ end }}first={{ $first }}',
      'OK',
      'first=reg/app:1.4.0',
    ],
    ['a  {{- "b" -}}  c\n  {{- /* a comment */ -}}\n  d {{/* another */}} e', 'OK', 'abcd  e'],
    [
      '{{ printf "%s|%d|%q|%v|%t|%%" "x" 42 "q\\"t" .AutomationObject true }} {{ printf "%d" "notint" }} {{ printf "%s" }} {{ printf "%s" "a" "extra" }}',
      'OK',
      'x|42|"q\\"t"|flux-system/auto|true|% %!d(string=notint) %!s(MISSING) a%!(EXTRA string=extra)',
    ],
    ['{{ print 1 2 "a" 3 "b" "c" true false }}|{{ println "x" 1 }}|', 'OK', '1 2a3bctrue false|x 1\n|'],
    [
      '{{ and 1 0 "x" }} {{ and 1 "x" }} {{ or 0 "" "y" }} {{ or 0 "" }} {{ not 0 }} {{ not "a" }} {{ "p" | and 1 }}',
      'OK',
      '0 x y  true false p',
    ],
    [
      '{{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ lt "a" "b" }} {{ ge 3 3 }} {{ gt 2 3 }} {{ le 1 1 }}',
      'OK',
      'true true true true false true',
    ],
    [
      '{{ index .Values "cluster" }} [{{ index .Values "none" }}] {{ (index .Changed.Changes 0).NewValue }} {{ index "abc" 1 }}',
      'OK',
      'prod [] reg/app:1.4.0 98',
    ],
    [
      '{{ default "d" .Values.nope }} {{ default "d" .Values.cluster }} {{ quote "a" 1 }} {{ squote "b" }} {{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ title "hello wor-ld o\'k" }} {{ upper "x" }} {{ untitle "Hello World" }}',
      'OK',
      'd prod "a" "1" \'b\' abc ef Hello Wor-Ld O\'K X hello world',
    ],
    [
      '{{ replace "a" "b" "banana" }} {{ join "," (list 1 "a" true) }} {{ splitList "/" "a/b/c" }} {{ trimPrefix "reg/" "reg/app" }} {{ trimSuffix ":1" "app:1" }} {{ trimAll "-" "--x--" }} {{ trim "  s  " }}',
      'OK',
      'bbnbnb 1,a,true [a b c] app app x s',
    ],
    [
      '{{ contains "pp" "app" }} {{ hasPrefix "a" "app" }} {{ hasSuffix "x" "app" }} [{{ indent 2 "a\\nb" }}] [{{ nindent 2 "a" }}] {{ nospace " a b \\t c " }} {{ repeat 3 "ab" }}',
      'OK',
      'true true false [  a\n  b] [\n  a] abc ababab',
    ],
    [
      '{{ base "a/b/c.yaml" }} {{ dir "a/b/c.yaml" }} {{ ext "a/b/c.tar.gz" }} {{ ext ".bashrc" }} {{ base "" }} {{ dir "" }} {{ base "a/b/" }}',
      'OK',
      'c.yaml a/b .gz .bashrc . . b',
    ],
    [
      '{{ first (list 1 2 3) }} {{ last (list 1 2 3) }} {{ uniq (list 1 1 2 "a" "a") }} {{ sortAlpha (list "b" "a" "c") }} {{ ternary "y" "n" true }} {{ coalesce "" .Values.nope "c" }} {{ empty "" }} {{ empty .Changed }} {{ toString 5 }} {{ cat "a" 1 nil "b" }}',
      'OK',
      '1 3 [1 2 a] [a b c] y c true false 5 a 1 b',
    ],
    [
      '{{ add 1 2 3 }} {{ add1 5 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }} {{ reverse (list 1 2 3) }} {{ has 2 (list 1 2) }} {{ compact (list 1 "" 0 "a") }}',
      'OK',
      '6 6 -2 24 [2 3] [1 2] [3 2 1] true [1 a]',
    ],
    [
      '{{ range $i, $c := .Changed.Changes }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $i }}:{{ $c.NewValue }} {{ end }}|{{ range $i := 5 }}{{ if eq $i 2 }}{{ continue }}{{ end }}{{ $i }}{{ end }}',
      'OK',
      '0:reg/app:1.4.0 |0134',
    ],
    [
      '{{ .Changed.Changes }} | {{ .AutomationObject }} | {{ .Values }} | {{ index .Changed.Changes 0 }}',
      'OK',
      '[{reg/app:1.3.0 reg/app:1.4.0 flux-system:app} {1.3.0 1.4.0 flux-system:app:tag}] | flux-system/auto | map[cluster:prod team:a] | {reg/app:1.3.0 reg/app:1.4.0 flux-system:app}',
    ],
    [
      '{{ range $f, $objs := .Changed.FileChanges }}{{ $f }}:{{ range $id, $cs := $objs }} {{ $id.APIVersion }}/{{ $id.Kind }} {{ $id.Namespace }}/{{ $id.Name }} ({{ len $cs }}){{ end }}\n{{ end }}',
      'OK',
      'apps/backend/deployment.yaml: apps/v1/Deployment dev/backend (1)\napps/kustomization.yaml: kustomize.config.k8s.io/v1beta1/Kustomization / (1)\n',
    ],
    [
      '{{ `raw {{ text }}` }} {{ "esc\\t\\x41\\u00e9\\101" }} {{ \'a\' }} {{ 0x1F }} {{ 0o17 }} {{ 1_000 }} {{ -3 }}',
      'OK',
      'raw {{ text }} esc\tAéA 97 31 15 1000 -3',
    ],
    [
      '{{ .Updated }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <.Updated>: can\'t evaluate field Updated in type source.TemplateData',
    ],
    [
      '{{ range .Changed.ImageResult.Images }}{{ . }}{{ end }}',
      'EXEC',
      'template: commit message:1:17: executing "commit message" at <.Changed.ImageResult.Images>: can\'t evaluate field ImageResult in type update.Result',
    ],
    [
      '{{ .Changed.Foo }}',
      'EXEC',
      'template: commit message:1:11: executing "commit message" at <.Changed.Foo>: can\'t evaluate field Foo in type update.Result',
    ],
    [
      '{{ .AutomationObject.name }}',
      'EXEC',
      'template: commit message:1:20: executing "commit message" at <.AutomationObject.name>: can\'t evaluate field name in type types.NamespacedName',
    ],
    [
      '{{ lower 3 }}',
      'EXEC',
      'template: commit message:1:9: executing "commit message" at <3>: expected string; found 3',
    ],
    [
      '{{ lower .Values.nope }}',
      'EXEC',
      'template: commit message:1:16: executing "commit message" at <.Values.nope>: invalid value; expected string',
    ],
    [
      '{{ lower "a" "b" }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <lower>: wrong number of args for lower: want 1 got 2',
    ],
    [
      '{{ fail "stop here" }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <fail "stop here">: error calling fail: stop here',
    ],
    [
      '{{ index .Changed.Changes 5 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <index .Changed.Changes 5>: error calling index: index out of range: 5',
    ],
    ['{{ nope }}', 'PARSE', 'template: commit message:1: function "nope" not defined'],
    ['{{ if .Values }}', 'PARSE', 'template: commit message:1: unexpected EOF'],
    ['{{ $x }}', 'PARSE', 'template: commit message:1: undefined variable "$x"'],
    [
      '{{ .Changed | len }}',
      'EXEC',
      'template: commit message:1:14: executing "commit message" at <len>: error calling len: len of type update.Result',
    ],
    [
      '{{ "a" | .Changed.Changes }}',
      'EXEC',
      'template: commit message:1:17: executing "commit message" at <.Changed.Changes>: wrong number of args for Changes: want 0 got 1',
    ],
    ['{{ range 3 }}{{ . }}{{ end }} {{ len "héllo" }}', 'OK', '012 6'],
    [
      'line1\n{{ .Changed.Nope }}',
      'EXEC',
      'template: commit message:2:11: executing "commit message" at <.Changed.Nope>: can\'t evaluate field Nope in type update.Result',
    ],
    ['{{ end }}', 'PARSE', 'template: commit message:1: unexpected {{end}}'],
    ['{{ else }}', 'PARSE', 'template: commit message:1: unexpected {{else}}'],
    ['{{ break }}', 'PARSE', 'template: commit message:1: {{break}} outside {{range}}'],
    [
      '{{ 3 4 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <3>: can\'t give argument to non-function 3',
    ],
    [
      '{{ nil }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <nil>: nil is not a command',
    ],
    ['{{ "unterminated }}', 'PARSE', 'template: commit message:1: unterminated quoted string'],
    ['{{ .Values.cluster', 'PARSE', 'template: commit message:1: unclosed action'],
    ['{{ (.Values.cluster) | printf "%s!" }} {{ (.Changed).FileChanges | len }}', 'OK', 'prod! 2'],
    [
      '{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}',
      'PARSE',
      'template: commit message:1: undefined variable "$y"',
    ],
    ['{{ .Values.cluster | printf "%s-%s" "a" }} {{ "x" | printf "%s%s" "y" | upper }}', 'OK', 'a-prod YX'],
    [
      '{{ $v := "a" }}{{ range $i, $c := .Changed.Changes }}{{ $v = printf "%s%d" $v $i }}{{ end }}{{ $v }}',
      'OK',
      'a01',
    ],
    ['{{- range .Changed.Changes }}\n- {{ .NewValue -}}\n{{ end }}\n', 'OK', '\n- reg/app:1.4.0\n- 1.4.0\n'],
    [
      '{{ range $i, $x := 3 }}{{ end }}',
      'EXEC',
      'template: commit message:1:19: executing "commit message" at <3>: can\'t use 3 to iterate over more than one variable',
    ],
    [
      '{{ range "abc" }}{{ . }}{{ end }}',
      'EXEC',
      'template: commit message:1:9: executing "commit message" at <"abc">: range can\'t iterate over abc',
    ],
    [
      '{{ eq .Values.cluster 1 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <eq .Values.cluster 1>: error calling eq: incompatible types for comparison: string and int',
    ],
    [
      '{{ index .Values 1 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <index .Values 1>: error calling index: value has type int; should be string',
    ],
    [
      '{{ lt "a" 1 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <lt "a" 1>: error calling lt: incompatible types for comparison: string and int',
    ],
    [
      '{{ lt .Changed.Changes 1 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <lt .Changed.Changes 1>: error calling lt: invalid type for comparison',
    ],
    [
      '{{ eq .Changed.Changes 1 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <eq .Changed.Changes 1>: error calling eq: incompatible types for comparison: []update.Change and int',
    ],
    [
      '{{ eq (index .Changed.Changes 0) (index .Changed.Changes 0) }} {{ eq (index .Changed.Changes 0) (index .Changed.Changes 1) }}',
      'OK',
      'true false',
    ],
    [
      '{{ ne 1 "a" }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <ne 1 "a">: error calling ne: incompatible types for comparison: int and string',
    ],
    [
      '{{ eq 1 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <eq 1>: error calling eq: missing argument for comparison',
    ],
    [
      '{{ len 3 }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <len 3>: error calling len: len of type int',
    ],
    ['{{ index .Changed.FileChanges "nope" }}|{{ index .Values "nope" }}|', 'OK', 'map[]||'],
    [
      '{{ .Values.cluster.x }}',
      'EXEC',
      'template: commit message:1:10: executing "commit message" at <.Values.cluster.x>: can\'t evaluate field x in type string',
    ],
    ['{{ .Values.nope.x }}', 'OK', '<no value>'],
    [
      '{{ not }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <not>: wrong number of args for not: want 1 got 0',
    ],
    [
      '{{ and }}',
      'EXEC',
      'template: commit message:1:3: executing "commit message" at <and>: wrong number of args for and: want at least 1 got 0',
    ],
    ['{{ printf "%v %v" .Values.nope nil }}', 'OK', '<nil> <nil>'],
    ['{{ print .Values.nope }}', 'OK', '<nil>'],
    ['{{ (index .Changed.Changes 0) }}', 'OK', '{reg/app:1.3.0 reg/app:1.4.0 flux-system:app}'],
    ['{{ .AutomationObject.Name }}/{{ .AutomationObject.Namespace }}', 'OK', 'auto/flux-system'],
  ];
  for (const [template, kind, want] of table) {
    it(`${kind}: ${JSON.stringify(template).slice(0, 90)}`, () => {
      assert.equal(outcome(template), `${kind} ${want}`);
    });
  }

  describe('what Go renders but Tide refuses, naming the construct', () => {
    const refused: [string, RegExp][] = [
      ['{{ define "x" }}y{{ end }}{{ template "x" }}', /\{\{define\}\} is not supported by Tide/],
      ['{{ block "x" . }}y{{ end }}', /\{\{block\}\} is not supported by Tide/],
      ['{{ sha256sum "a" }}', /the function "sha256sum" is not supported by Tide/],
      ['{{ .Values | keys }}', /the function "keys" is not supported by Tide/],
      ['{{ html "<a>" }}', /the function "html" is not supported by Tide/],
      ['{{ 1.5 }}', /the number 1.5 is not supported by Tide: only integer constants are/],
      ['{{ printf "%5s" "a" }}', /printf verb %5 is not supported by Tide/],
      ['{{ .Changed.Objects }}', /printing an object identifier is not supported by Tide; print its fields/],
      ['{{ range $id, $c := .Changed.Objects }}{{ $id }}{{ end }}', /printing an object identifier/],
    ];
    for (const [template, message] of refused) {
      it(template, () => {
        assert.throws(
          () => compileTemplate('commit message', template).render(data()),
          (err: unknown) => {
            assert.ok(err instanceof UnsupportedTemplateError, String(err));
            assert.match(err.message, message);
            return true;
          },
        );
      });
    }
  });

  it('refuses to write more than 1 MiB', () => {
    assert.throws(
      () =>
        compileTemplate('commit message', '{{ range 2000 }}{{ repeat 1000 "x" }}{{ end }}').render(data()),
      /the message exceeds 1048576 bytes/,
    );
  });
});
