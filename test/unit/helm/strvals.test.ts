// Helm's --set parser as a ValuesReference targetPath uses it; cases follow helm's strvals tests.
import assert from 'node:assert/strict';
import { parseInto, parseIntoString } from '../../../controllers/runtime/helm/strvals.ts';

const parsed = (s: string, into: Record<string, unknown> = {}) => {
  parseInto(s, into);
  return into;
};

describe('runtime/helm/strvals', () => {
  it('types values: booleans, null, integers; leading zeros, floats and the rest stay strings', () => {
    assert.deepEqual(parsed('a=true,b=FALSE,c=null,d=0,e=12,f=-5,g=012,h=1.5,i=1e3,j=,k=x y'), {
      a: true,
      b: false,
      c: null,
      d: 0,
      e: 12,
      f: -5,
      g: '012',
      h: '1.5',
      i: '1e3',
      j: '',
      k: 'x y',
    });
    const s: Record<string, unknown> = {};
    parseIntoString('a=true,b=12,c=null', s);
    assert.deepEqual(s, { a: 'true', b: '12', c: 'null' });
  });

  it('walks dotted paths, escaped dots and commas, lists and {a,b} values', () => {
    assert.deepEqual(parsed('outer.inner=v,x\\.y.z=1,list={a,b,3},esc=a\\,b'), {
      outer: { inner: 'v' },
      'x.y': { z: 1 },
      list: ['a', 'b', 3],
      esc: 'a,b',
    });
  });

  it('sets list items, padding with null, and nests lists and maps in lists', () => {
    assert.deepEqual(parsed('a[2]=x,b[0][1]=y,c[1].d=z'), {
      a: [null, null, 'x'],
      b: [[null, 'y']],
      c: [null, { d: 'z' }],
    });
    // Into existing values: in place when the list is long enough, a longer copy when not.
    const list = ['one', 'two'];
    const into = { l: list, m: { keep: 1 } };
    parsed('l[0]=first,m.added=2', into);
    assert.equal(into.l, list);
    assert.deepEqual(into, { l: ['first', 'two'], m: { keep: 1, added: 2 } });
    parsed('l[3]=fourth', into);
    assert.notEqual(into.l, list);
    assert.deepEqual(into.l, ['first', 'two', null, 'fourth']);
  });

  it('reports what it cannot parse, as Helm words it', () => {
    assert.throws(() => parsed('a'), /^Error: key "a" has no value$/);
    assert.throws(() => parsed('a,b=1'), /key "a" has no value \(cannot end with ,\)/);
    assert.throws(() => parsed('a.=1'), /key map "a" has no value/);
    assert.throws(() => parsed('a={x,y'), /list must terminate with '}'/);
    assert.throws(() => parsed('a[x]=1'), /error parsing index: strconv.Atoi: parsing "x": invalid syntax/);
    assert.throws(() => parsed('a[-1]=1'), /negative -1 index not allowed/);
    assert.throws(
      () => parsed('a[65537]=1'),
      /index of 65537 is greater than maximum supported index of 65536/,
    );
    assert.throws(() => parsed('a[0]x=1'), /unexpected data at end of array index: "x"/);
    assert.throws(
      () => parsed(`${'a.'.repeat(31)}b=1`),
      /nested level is greater than maximum supported nested level of 30/,
    );
    assert.throws(
      () => parsed('a.b=1', { a: 'text' }),
      /unable to parse key: interface conversion: interface \{\} is string, not map\[string\]interface \{\}/,
    );
    // An index without its closing bracket ends the input: nothing is set, as in Helm.
    assert.deepEqual(parsed('a[1'), {});
  });

  it('treats __proto__ as a key like any other', () => {
    const v = parsed('__proto__.polluted=yes');
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });
});
