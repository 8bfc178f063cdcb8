import { MissingKey, parseGoTemplate } from './goTemplate';
import { GoTemplateError } from './goValues';

const render = (
  template: string,
  data: unknown = {},
  missingKey?: MissingKey,
) => parseGoTemplate(template).execute(data, { missingKey });

/** The error a template stops with, and how long it took. */
function failure(
  template: string,
  data: unknown = {},
  missingKey?: MissingKey,
) {
  const started = performance.now();
  try {
    render(template, data, missingKey);
  } catch (error) {
    return { error: error as Error, ms: performance.now() - started };
  }
  throw new Error(`${template} did not fail`);
}

const data = {
  name: 'payment',
  env: 'prod',
  replicas: 3,
  ratio: 1.5,
  million: 1000000,
  big: 1234567,
  small: 0.00001,
  yes: true,
  empty: '',
  nothing: null,
  list: ['a', 'b', 'c'],
  numbers: [1, 2],
  map: { b: 2, a: { c: 'x' } },
  mixed: ['a', 1, true, null],
  apps: [{ name: 'cart' }, { name: 'shop' }],
};

describe('Go templates as Argo CD renders them', () => {
  describe('prints values as Go does', () => {
    it.each([
      ['plain text', 'hello', 'hello'],
      ['a string field', '{{ .name }}', 'payment'],
      ['a missing key', '{{ .missing }}', '<no value>'],
      ['a null value', '{{ .nothing }}', '<no value>'],
      ['a whole float64', '{{ .replicas }}', '3'],
      ['a fractional float64', '{{ .ratio }}', '1.5'],
      ['a float64 of a million in exponent form', '{{ .million }}', '1e+06'],
      [
        'a float64 of seven digits in exponent form',
        '{{ .big }}',
        '1.234567e+06',
      ],
      ['a small float64', '{{ .small }}', '1e-05'],
      ['a boolean', '{{ .yes }}', 'true'],
      ['a list with nil', '{{ .mixed }}', '[a 1 true <nil>]'],
      ['a map, keys sorted', '{{ .map }}', 'map[a:map[c:x] b:2]'],
      [
        'int constants',
        '{{ 3 }} {{ 0x1F }} {{ 0o17 }} {{ 1_000 }}',
        '3 31 15 1000',
      ],
      ['float constants', '{{ 3.0 }} {{ 1e3 }} {{ 2.5 }}', '3 1000 2.5'],
      ['a character constant', "{{ 'a' }}", '97'],
      ['string escapes', '{{ "a\\tb\\u00e9" }}', 'a\tbé'],
      ['a raw string', '{{ `raw\\n` }}', 'raw\\n'],
    ])('%s', (_, template, expected) => {
      expect(render(template, data)).toBe(expected);
    });
  });

  describe('evaluates each construct', () => {
    it.each([
      ['trim markers', 'a  {{- "b" -}}  \n c', 'abc'],
      ['comments', '{{/* a comment */}}x', 'x'],
      ['comments with trim markers', 'a {{- /* c */ -}} b', 'ab'],
      ['a variable', '{{ $x := .name }}{{ $x }}', 'payment'],
      [
        'an assignment inside if reaching the outer variable',
        '{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}',
        '2',
      ],
      ['$ inside with', '{{ with .map }}{{ $.name }}{{ end }}', 'payment'],
      ['with and its dot', '{{ with .map.a }}{{ .c }}{{ end }}', 'x'],
      [
        'with on an empty value',
        '{{ with .empty }}x{{ else }}none{{ end }}',
        'none',
      ],
      [
        'else with',
        '{{ with .missing }}a{{ else with .name }}{{ . }}{{ end }}',
        'payment',
      ],
      [
        'if / else if / else',
        '{{ if eq .env "dev" }}d{{ else if eq .env "prod" }}p{{ else }}o{{ end }}',
        'p',
      ],
      [
        'a variable of an if pipeline seen in its else',
        '{{ if $x := .empty }}{{ $x }}{{ else }}[{{ $x }}]{{ end }}',
        '[]',
      ],
      [
        'range over a list with index',
        '{{ range $i, $e := .list }}{{ $i }}={{ $e }},{{ end }}',
        '0=a,1=b,2=c,',
      ],
      [
        'range over a map in key order',
        '{{ range $k, $v := .map }}{{ $k }};{{ end }}',
        'a;b;',
      ],
      [
        'range with else',
        '{{ range .none }}x{{ else }}empty{{ end }}',
        'empty',
      ],
      ['range over an int', '{{ range 3 }}{{ . }}{{ end }}', '012'],
      [
        'break and continue',
        '{{ range .list }}{{ if eq . "c" }}{{ break }}{{ end }}{{ if eq . "a" }}{{ continue }}{{ end }}{{ . }}{{ end }}',
        'b',
      ],
      [
        'a parenthesized pipeline and its field',
        '{{ (index .apps 1).name }}',
        'shop',
      ],
      ['a pipeline', '{{ .name | upper | printf "%s!" }}', 'PAYMENT!'],
      [
        'a pipeline inside parentheses',
        '{{ printf "%s-%s" (.name | upper) .env }}',
        'PAYMENT-prod',
      ],
    ])('%s', (_, template, expected) => {
      expect(render(template, data)).toBe(expected);
    });
  });

  describe("runs Go's built-in functions", () => {
    it.each([
      ['and returns the first false operand', '{{ and 1 0 "x" }}', '0'],
      [
        'and returns the last operand when all are true',
        '{{ and 1 "x" }}',
        'x',
      ],
      ['or returns the first true operand', '{{ or "" 0 "y" }}', 'y'],
      ['or returns the last operand when none is true', '{{ or "" 0 }}', '0'],
      [
        'and stops at the first false operand',
        '{{ and false (fail "never") }}',
        'false',
      ],
      ['not', '{{ not .missing }} {{ not 1 }}', 'true false'],
      [
        'eq with several candidates',
        '{{ eq .env "dev" "stg" "prod" }}',
        'true',
      ],
      ['eq of a missing value and a string', '{{ eq .missing "x" }}', 'false'],
      ['eq of nil and a missing value', '{{ eq .missing nil }}', 'true'],
      ['ne', '{{ ne "a" "b" }}', 'true'],
      [
        'lt, le, gt, ge',
        '{{ lt 1 2 }} {{ le 3 2 }} {{ gt .replicas 2.5 }} {{ ge 2 2 }}',
        'true false true true',
      ],
      ['lt on strings', '{{ lt "a" "b" }}', 'true'],
      [
        'len counts bytes',
        '{{ len "héllo" }} {{ len .list }} {{ len .map }}',
        '6 3 2',
      ],
      [
        'index of a list, a map and nested',
        '{{ index .list 1 }} {{ index .map "a" "c" }}',
        'b x',
      ],
      ['index of a missing map key', '{{ index .map "zz" }}', '<no value>'],
      ['index of a string is a byte', '{{ index "abc" 1 }}', '98'],
      [
        'slice (Sprig) of a list',
        '{{ slice .list 1 }} {{ slice .list 1 2 }}',
        '[b c] [b]',
      ],
      [
        'print adds spaces between non-strings',
        '{{ print "a" 1 2 "b" }}',
        'a1 2b',
      ],
      ['println', '{{ println "a" 1 }}', 'a 1\n'],
      [
        'printf verbs',
        '{{ printf "%v|%s|%d|%q|%t|%5.2f|%-5s|%05d|%x|%X|%e|%g|%%" .map.a "s" 42 "q\\"" true 3.14159 "ab" 42 255 "hi" 1234.5678 0.000012 }}',
        'map[c:x]|s|42|"q\\""|true| 3.14|ab   |00042|ff|6869|1.234568e+03|1.2e-05|%',
      ],
      [
        'printf %d of a float64',
        '{{ printf "%d" .replicas }}',
        '%!d(float64=3)',
      ],
      ['printf %s of an int', '{{ printf "%s" 3 }}', '%!s(int=3)'],
      [
        'printf with a missing operand',
        '{{ printf "%d %d" 1 }}',
        '1 %!d(MISSING)',
      ],
      [
        'printf with an extra operand',
        '{{ printf "%d" 1 2 }}',
        '1%!(EXTRA int=2)',
      ],
      [
        'printf %s and %v of nothing',
        '{{ printf "%s|%v" .missing .missing }}',
        '%!s(<nil>)|<nil>',
      ],
      [
        'printf verbs reach into lists',
        '{{ printf "%s|%d" .list .numbers }}',
        '[a b c]|[%!d(float64=1) %!d(float64=2)]',
      ],
      [
        'html',
        `{{ html "<a href='x'>&</a>" }}`,
        '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;',
      ],
      [
        'js',
        `{{ js "it's \\"q\\" <b>\\n" }}`,
        'it\\\'s \\"q\\" \\u003Cb\\u003E\\u000A',
      ],
      ['urlquery', '{{ urlquery "a b&c=d/é" }}', 'a+b%26c%3Dd%2F%C3%A9'],
    ])('%s', (_, template, expected) => {
      expect(render(template, data)).toBe(expected);
    });
  });

  describe('runs the Sprig functions ApplicationSets use', () => {
    it.each([
      ['default of a missing value', '{{ default "x" .missing }}', 'x'],
      [
        'default in a pipeline',
        '{{ .empty | default "x" }} {{ .name | default "x" }}',
        'x payment',
      ],
      [
        'empty',
        '{{ empty "" }} {{ empty .none }} {{ empty 0 }} {{ empty "a" }}',
        'true true true false',
      ],
      ['coalesce', '{{ coalesce "" .missing "z" }}', 'z'],
      ['coalesce of nothing', '{{ coalesce "" 0 }}', '<no value>'],
      [
        'ternary',
        '{{ ternary "a" "b" true }} {{ .yes | not | ternary "on" "off" }}',
        'a off',
      ],
      [
        'quote skips nothing, quotes the rest',
        '{{ quote "a\\"b" 1 .missing }}',
        '"a\\"b" "1"',
      ],
      ['squote', '{{ squote "a" 2 }}', "'a' '2'"],
      ['upper and lower', '{{ upper "abc" }} {{ lower "ÀB" }}', 'ABC àb'],
      [
        'title',
        '{{ title "hello wide-world foo_bar" }}',
        'Hello Wide-World Foo_bar',
      ],
      ['trim', '{{ trim "  a b \\n" }}', 'a b'],
      [
        'trimPrefix and trimSuffix',
        '{{ trimPrefix "v" "v1.2" }} {{ "app.yaml" | trimSuffix ".yaml" }}',
        '1.2 app',
      ],
      ['replace', '{{ "a-b-c" | replace "-" "_" }}', 'a_b_c'],
      [
        'contains, hasPrefix, hasSuffix',
        '{{ contains "pay" .name }} {{ hasPrefix "pay" .name }} {{ hasSuffix "x" .name }}',
        'true true false',
      ],
      [
        'split into a map',
        '{{ split "/" "a/b" }} {{ (split "/" "a/b/c")._1 }}',
        'map[_0:a _1:b] b',
      ],
      [
        'splitList',
        '{{ splitList "," "a,b" }} {{ index (splitList "/" "x/y") 1 }}',
        '[a b] y',
      ],
      [
        'join',
        '{{ join "," .mixed }} {{ list "a" "b" | join "-" }}',
        'a,1,true a-b',
      ],
      ['list', '{{ list 1 "a" }}', '[1 a]'],
      [
        'dict, get, hasKey and keys',
        '{{ $d := dict "b" 2 "a" 1 }}{{ get $d "a" }} {{ get $d "zz" }}|{{ hasKey $d "c" }} {{ keys $d }}',
        '1 |false [a b]',
      ],
      [
        'merge keeps the target, fills what it leaves empty',
        '{{ merge (dict "a" 1 "c" "") (dict "a" 2 "b" 3 "c" "x") }}',
        'map[a:1 b:3 c:x]',
      ],
      [
        'toJson',
        '{{ toJson .map }} {{ toJson "<&>" }} {{ toJson .missing }}',
        '{"a":{"c":"x"},"b":2} "\\u003c\\u0026\\u003e" null',
      ],
      ['toString', '{{ toString 3.5 }} {{ toString .list }}', '3.5 [a b c]'],
      [
        'atoi',
        '{{ atoi "42" }} {{ atoi "x" }} {{ add (atoi "2") 1 }}',
        '42 0 3',
      ],
      [
        'int',
        '{{ int "12" }} {{ int 3.9 }} {{ int .replicas }} {{ int "1.0" }}',
        '12 3 3 1',
      ],
      ['add and sub', '{{ add 1 2 .ratio }} {{ sub 10 .replicas }}', '4 7'],
      [
        'trunc',
        '{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trunc 10 "ab" }}',
        'abc ef ab',
      ],
      [
        'base and dir',
        '{{ base "envs/prod/" }} {{ dir "envs/prod/values.yaml" }}',
        'prod envs/prod',
      ],
      [
        'regexMatch',
        '{{ regexMatch "^v[0-9]+$" "v12" }} {{ regexMatch "(" "x" }}',
        'true false',
      ],
      [
        'regexReplaceAll expands ${1}',
        '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}',
        '-W-xxW-',
      ],
      [
        'regexReplaceAll reads $1W as a group named 1W',
        '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}',
        '---',
      ],
      [
        'regexReplaceAll with empty matches',
        '{{ regexReplaceAll "a*" "baaac" "X" }}',
        'XbXcX',
      ],
      ['regexFind', '{{ regexFind "[0-9]+" "v12.3" }}', '12'],
    ])('%s', (_, template, expected) => {
      expect(render(template, data)).toBe(expected);
    });
  });

  describe('runs the rest of the Sprig functions it evaluates', () => {
    it.each([
      ['cat', '{{ cat "a" 1 .missing "b" }}', 'a 1 b'],
      ['trimAll', '{{ trimAll "$" "$$5.00$" }}', '5.00'],
      ['nospace', '{{ nospace "a b\tc" }}', 'abc'],
      ['repeat', '{{ repeat 3 "ab" }}', 'ababab'],
      ['substr', '{{ substr 1 3 "hello" }}', 'el'],
      [
        'indent and nindent',
        '{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}',
        '  a\n  b|\n  a',
      ],
      ['sortAlpha', '{{ sortAlpha (list "b" "a" 3) }}', '[3 a b]'],
      ['toStrings', '{{ toStrings (list 1 "a") }}', '[1 a]'],
      ['b64enc and b64dec', '{{ b64enc "hi" }} {{ b64dec "aGk=" }}', 'aGk= hi'],
      [
        'b64dec of bad data',
        '{{ b64dec "%%" }}',
        'illegal base64 data at input byte 0',
      ],
      [
        'sha1sum and sha256sum',
        '{{ sha1sum "a" }} {{ sha256sum "a" }}',
        '86f7e437faa5a7fce15d1ddcb9eaeaea377667b8 ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb',
      ],
      ['int64 and float64', '{{ int64 "0x10" }} {{ float64 "1.5" }}', '16 1.5'],
      [
        'add1, mul, div, mod',
        '{{ add1 .replicas }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }}',
        '4 24 3 1',
      ],
      ['max and min', '{{ max 1 5 3 }} {{ min 4 2 }}', '5 2'],
      [
        'until and untilStep',
        '{{ until 3 }} {{ untilStep 0 10 4 }}',
        '[0 1 2] [0 4 8]',
      ],
      ['list and tuple', '{{ tuple 1 2 }}', '[1 2]'],
      [
        'first, last, rest, initial',
        '{{ first .list }} {{ last .list }} {{ rest .list }} {{ initial .list }}',
        'a c [b c] [a b]',
      ],
      [
        'append, push, prepend, concat',
        '{{ append .list "d" }} {{ push .list "x" }} {{ prepend .list "z" }} {{ concat .list (list 1) }}',
        '[a b c d] [a b c x] [z a b c] [a b c 1]',
      ],
      [
        'reverse, uniq, compact',
        '{{ reverse .list }} {{ uniq (list 1 1 "a" "a") }} {{ compact (list "" "a" 0) }}',
        '[c b a] [1 a] [a]',
      ],
      [
        'has and without',
        '{{ has "b" .list }} {{ without .list "b" }}',
        'true [a c]',
      ],
      [
        'set and unset',
        '{{ $d := dict "a" 1 }}{{ set $d "b" 2 }} {{ unset $d "a" }}',
        'map[a:1 b:2] map[b:2]',
      ],
      ['values in key order', '{{ values (dict "b" 2 "a" 1) }}', '[1 2]'],
      [
        'pluck',
        '{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}',
        '[1 3]',
      ],
      [
        'pick and omit',
        '{{ pick (dict "a" 1 "b" 2) "a" }} {{ omit (dict "a" 1 "b" 2) "a" }}',
        'map[a:1] map[b:2]',
      ],
      [
        'mergeOverwrite',
        '{{ mergeOverwrite (dict "a" 1) (dict "a" 2 "b" 3) }}',
        'map[a:2 b:3]',
      ],
      [
        'dig',
        '{{ dig "a" "b" "none" (dict "a" (dict "b" "x")) }} {{ dig "a" "z" "none" (dict "a" (dict "b" "x")) }}',
        'x none',
      ],
      ['deepCopy', '{{ deepCopy .map }}', 'map[a:map[c:x] b:2]'],
      [
        'toRawJson and toPrettyJson',
        '{{ toRawJson "<a>" }} {{ toPrettyJson (dict "a" 1) }}',
        '"<a>" {\n  "a": 1\n}',
      ],
      [
        'fromJson',
        '{{ (fromJson "{\\"a\\": [1, 2]}").a }} {{ fromJson "nope" }}',
        '[1 2] <no value>',
      ],
      [
        'clean, ext, isAbs',
        '{{ clean "a//b/../c" }} {{ ext "x.tar.gz" }} {{ isAbs "/x" }}',
        'a/c .gz true',
      ],
      ['regexFindAll', '{{ regexFindAll "[0-9]" "a1b2c3" 2 }}', '[1 2]'],
      [
        'regexReplaceAllLiteral',
        '{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "$1" }}',
        '-$1-',
      ],
      ['regexSplit', '{{ regexSplit "-+" "a--b-c" -1 }}', '[a b c]'],
      ['regexQuoteMeta', '{{ regexQuoteMeta "1.5*" }}', '1\\.5\\*'],
      ['all and any', '{{ all 1 "a" }} {{ any 0 "" }}', 'true false'],
    ])('%s', (_, template, expected) => {
      expect(render(template, data)).toBe(expected);
    });
  });

  describe("runs Argo CD's own functions", () => {
    it.each<[string, string, string, unknown?]>([
      [
        'normalize',
        '{{ normalize "Feature/JIRA-123_Add Thing" }}',
        'feature-jira-123-add-thing',
      ],
      ['slugify', '{{ slugify "Hello World!" }}', 'hello-world'],
      [
        'slugify with smart truncation',
        '{{ slugify 10 true "hello wonderful world" }}',
        'hello',
      ],
      [
        'slugify with plain truncation',
        '{{ slugify 10 false "hello wonderful world" }}',
        'hello-wond',
      ],
      [
        'toYaml',
        '{{ toYaml .value }}',
        'list:\n- 1\n- a\nname: x\nnested:\n  k: true\n"yes": "yes"',
        {
          value: { name: 'x', list: [1, 'a'], nested: { k: true }, yes: 'yes' },
        },
      ],
      [
        'fromYaml',
        '{{ (fromYaml "a: 1\\nb: [x]").b }} {{ (fromYaml "a: 1").a }}',
        '[x] 1',
      ],
      ['fromYamlArray', '{{ index (fromYamlArray "- a\\n- b") 1 }}', 'b'],
    ])('%s', (_, template, expected, values: unknown = data) => {
      expect(render(template, values)).toBe(expected);
    });
  });

  describe('missingkey', () => {
    it('prints <no value> for a missing key by default, and for zero on a map', () => {
      expect(render('{{ .a.b }}', {})).toBe('<no value>');
      expect(render('{{ .a }}', {}, 'zero')).toBe('<no value>');
      expect(render('{{ .a }}', {}, 'invalid')).toBe('<no value>');
    });

    it('stops with missingkey=error, naming the key and the action', () => {
      expect(
        failure('x{{ .env }}{{ .a.b }}', { env: 'dev' }, 'error').error.message,
      ).toBe('map has no entry for key "a" in {{ .a.b }}');
    });

    it('stops on a field of nil, whatever missingkey says', () => {
      expect(failure('{{ .nothing.b }}', data).error.message).toBe(
        'nil pointer evaluating interface {}.b in {{ .nothing.b }}',
      );
    });

    it('stops on a field of a string', () => {
      expect(failure('{{ .name.b }}', data).error.message).toBe(
        "can't evaluate field b in type string in {{ .name.b }}",
      );
    });
  });

  describe('refuses what Go or Argo CD would, with the reason', () => {
    it.each([
      ['{{ if }}', 'missing value for if in {{ if }}'],
      ['{{ end }}', 'unexpected {{ end }}'],
      ['{{ .a', 'unclosed action: {{ .a'],
      ['{{ foo }}', 'function "foo" not defined: {{ foo }}'],
      ['{{ env "HOME" }}', 'function "env" not defined: {{ env "HOME" }}'],
      ['{{ now }}', 'function "now" is not supported: {{ now }}'],
      [
        '{{ semverCompare ">1.0" .v }}',
        'function "semverCompare" is not supported: {{ semverCompare ">1.0" .v }}',
      ],
      [
        '{{ template "x" }}',
        '{{template}} is not supported: {{ template "x" }}',
      ],
      [
        '{{ $undefined }}',
        'undefined variable "$undefined" in {{ $undefined }}',
      ],
      ['{{ break }}', '{{break}} outside {{range}}: {{ break }}'],
      ['{{ if true }}x', 'unexpected EOF: unclosed {{ if true }}'],
    ])('%s', (template, message) => {
      expect(() => parseGoTemplate(template)).toThrow(
        new GoTemplateError(message),
      );
    });

    it.each([
      [
        '{{ eq .replicas 3 }}',
        'error calling eq: incompatible types for comparison in {{ eq .replicas 3 }}',
      ],
      [
        '{{ lt 1 2.5 }}',
        'error calling lt: incompatible types for comparison in {{ lt 1 2.5 }}',
      ],
      [
        '{{ eq .map .map }}',
        'error calling eq: non-comparable type map[a:map[c:x] b:2]: map[string]interface {} in {{ eq .map .map }}',
      ],
      [
        '{{ upper .replicas }}',
        'wrong type for value; expected string; got float64 in {{ upper .replicas }}',
      ],
      [
        '{{ upper .missing }}',
        'invalid value; expected string in {{ upper .missing }}',
      ],
      [
        '{{ upper "a" "b" }}',
        'wrong number of args for upper: want 1 got 2 in {{ upper "a" "b" }}',
      ],
      [
        '{{ index .list 5 }}',
        'error calling index: index out of range: 5 in {{ index .list 5 }}',
      ],
      [
        '{{ fromYaml "- a" }}',
        'error calling fromYaml: error unmarshaling JSON: json: cannot unmarshal array into Go value of type map[string]interface {} in {{ fromYaml "- a" }}',
      ],
      [
        '{{ fail "no environment" }}',
        'error calling fail: no environment in {{ fail "no environment" }}',
      ],
    ])('%s', (template, message) => {
      expect(failure(template, data).error.message).toBe(message);
    });
  });

  describe('hostile templates end fast with a clear error', () => {
    it('refuses a range over a huge int before starting it', () => {
      const { error, ms } = failure('{{ range 1000000000000 }}x{{ end }}');
      expect(ms).toBeLessThan(1000);
      expect(error.message).toBe(
        'range over 1000000000000 takes more than 100000 steps',
      );
    });

    it('refuses a list of a billion items before building it', () => {
      const { error, ms } = failure('{{ range until 1000000000 }}x{{ end }}');
      expect(ms).toBeLessThan(1000);
      expect(error.message).toMatch(
        /^error calling until: untilStep 0 1000000000 1 would hold more than 100000 items/,
      );
    });

    it('stops a loop that runs too many steps', () => {
      const { error, ms } = failure(
        '{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}',
      );
      expect(ms).toBeLessThan(2000);
      expect(error.message).toBe('the template takes more than 100000 steps');
    });

    it('stops a string that doubles itself', () => {
      const { error, ms } = failure(
        '{{ $s := "xx" }}{{ range until 40 }}{{ $s = print $s $s }}{{ end }}',
      );
      expect(ms).toBeLessThan(1000);
      expect(error.message).toBe(
        'print returns more than 1048576 characters in {{ $s = print $s $s }}',
      );
    });

    it('stops serializing a list that shares itself exponentially', () => {
      const { error, ms } = failure(
        '{{ $l := list 1 }}{{ range until 60 }}{{ $l = list $l $l }}{{ end }}{{ toJson $l }}',
      );
      expect(ms).toBeLessThan(2000);
      expect(error.message).toMatch(/toJson: the value is too large/);
    });

    it('stops output past its limit', () => {
      const { error, ms } = failure(
        '{{ range until 100 }}{{ repeat 20000 "x" }}{{ end }}',
      );
      expect(ms).toBeLessThan(1000);
      expect(error.message).toBe(
        'the template writes more than 1048576 characters',
      );
    });

    it('refuses controls nested thousands deep while parsing', () => {
      const template = `${'{{ if true }}'.repeat(10000)}x${'{{ end }}'.repeat(
        10000,
      )}`;
      const started = performance.now();
      expect(() => parseGoTemplate(template)).toThrow(
        /the template nests more than 100 levels deep/,
      );
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('refuses parentheses nested thousands deep while parsing', () => {
      const template = `{{ ${'(print '.repeat(5000)}1${')'.repeat(5000)} }}`;
      expect(() => parseGoTemplate(template)).toThrow(
        /nests more than 100 levels deep/,
      );
    });

    it('matches a catastrophic regex in linear time (RE2), not for hours', () => {
      const started = performance.now();
      expect(
        render('{{ regexMatch "^(a+)+$" .s }}', { s: `${'a'.repeat(5000)}!` }),
      ).toBe('false');
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('lexes a megabyte of blanks before a trim marker in linear time', () => {
      const started = performance.now();
      expect(render(`${' '.repeat(1_000_000)}x {{- "y" }}`)).toBe(
        `${' '.repeat(1_000_000)}xy`,
      );
      expect(performance.now() - started).toBeLessThan(1000);
    });
  });
});
