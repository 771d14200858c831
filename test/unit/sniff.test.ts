/**
 * What Sparkgate reads from a dataset's name and first bytes (src/datasets/sniff.ts) and
 * which file names it accepts (src/datasets/dataset-schema.ts). Pure functions: no HDFS.
 */
import t from 'tap'
import { Value } from 'typebox/value'
import { DatasetName, nameProblem } from '../../src/datasets/dataset-schema.js'
import { formatOf, headLines, sniffCsv, splitCsvLine } from '../../src/datasets/sniff.js'

const buf = (text: string) => Buffer.from(text, 'utf8')

t.test('formatOf: the extension, case-insensitive; anything else is other', async (t) => {
  const cases: [string, string][] = [
    ['iris.csv', 'csv'],
    ['IRIS.CSV', 'csv'],
    ['events.json', 'json'],
    ['events.JSONL', 'json'],
    ['events.ndjson', 'json'],
    ['part-0.parquet', 'parquet'],
    ['a9a.libsvm', 'libsvm'],
    ['a9a.svm', 'libsvm'],
    ['notes.txt', 'txt'],
    ['notes.Text', 'txt'],
    // only the last extension counts
    ['data.csv.gz', 'other'],
    ['model.tar.json', 'json'],
    ['README', 'other'],
    ['trailing.', 'other'],
    ['x.xlsx', 'other'],
    // a dotfile's only dot starts its name: it has no extension
    ['.csv', 'other'],
    ['.hidden.csv', 'csv'],
  ]
  for (const [name, format] of cases) t.equal(formatOf(name), format, `${name} → ${format}`)
})

t.test('splitCsvLine: RFC 4180 quotes, separators and empty fields', async (t) => {
  t.strictSame(splitCsvLine('a,b,c'), ['a', 'b', 'c'])
  t.strictSame(splitCsvLine(''), [''], 'an empty line is one empty field')
  t.strictSame(splitCsvLine('a,'), ['a', ''], 'a trailing separator ends with an empty field')
  t.strictSame(splitCsvLine(',,'), ['', '', ''])
  t.strictSame(splitCsvLine('a, b'), ['a', ' b'], 'spaces are kept (sniffCsv trims)')
  t.strictSame(splitCsvLine('"a,b",c'), ['a,b', 'c'], 'a quoted separator is data')
  t.strictSame(splitCsvLine('"say ""hi""",x'), ['say "hi"', 'x'], '"" inside quotes is "')
  t.strictSame(splitCsvLine('"""",x'), ['"', 'x'], 'a field that is one quote')
  t.strictSame(splitCsvLine('"",x'), ['', 'x'], 'an empty quoted field')
  t.strictSame(splitCsvLine('a"b,c'), ['a"b', 'c'], 'a quote inside an unquoted field is data')
  t.strictSame(splitCsvLine('"a,b'), ['a,b'], 'an unterminated quote runs to the end')
  t.strictSame(splitCsvLine('a;b,c', ';'), ['a', 'b,c'], 'another separator')
  t.strictSame(splitCsvLine('a\tb\t', '\t'), ['a', 'b', ''], 'tabs')
})

t.test('headLines: complete lines of a head, BOM dropped', async (t) => {
  t.strictSame(headLines(buf('a,b\n1,2\n'), true), ['a,b', '1,2'], 'a final newline adds no line')
  t.strictSame(headLines(buf('a,b\n1,2'), true), ['a,b', '1,2'], 'a complete file needs no \\n')
  t.strictSame(headLines(buf('\uFEFFa,b\n1,2\n'), true), ['a,b', '1,2'], 'the BOM is dropped')
  t.strictSame(headLines(buf('a\n\nb\n'), true), ['a', '', 'b'], 'inner blank lines are kept')
  t.strictSame(headLines(buf(''), true), [])
  t.strictSame(headLines(buf('a\r\nb\r\n'), true), ['a', 'b'], 'CRLF')

  // a head cut by the buffer's end: its last, partial line is dropped
  t.strictSame(headLines(buf('a,b\n1,2\n3,'), false), ['a,b', '1,2'])
  t.strictSame(headLines(buf('a,b\n1,2\n'), false), ['a,b', '1,2'], 'cut right after a \\n')
  t.strictSame(headLines(buf('a,b'), false), [], 'no complete line at all')
  t.strictSame(headLines(buf('\uFEFFa\nb'), false), ['a'], 'BOM and cut together')
  // a multi-byte character cut in half only ever sits on the dropped line
  const cut = buf('a\nbé').subarray(0, 4)
  t.strictSame(headLines(cut, false), ['a'])

  // CRLF and a cut: the '\r' of the last kept line goes too
  t.strictSame(headLines(buf('a\r\nb\r\nc'), false), ['a', 'b'], 'CRLF with a cut')
})

t.test('sniffCsv: names from the header, types from the rows', async (t) => {
  const head = buf(
    [
      'id,score,ok,name,empty,',
      '1,1.5,true,a,,x',
      '2,NA,False,b,NA,y',
      '',
      '-3,2e3,TRUE,7,null,z',
      '+4,.5,false,c,N/A,w',
    ].join('\n') + '\n',
  )
  t.strictSame(sniffCsv(head, true), [
    { name: 'id', type: 'integer' },
    { name: 'score', type: 'double' },
    { name: 'ok', type: 'boolean' },
    { name: 'name', type: 'string' },
    { name: 'empty', type: 'string' },
    { name: '_c5', type: 'string' },
  ])
})

t.test('sniffCsv: the rules of each type', async (t) => {
  const typeOf = (values: string[]) => sniffCsv(buf(['v', ...values].join('\n')), true)?.[0]?.type
  t.equal(typeOf(['1', '-2', '+3', ' 4 ']), 'integer', 'signs and surrounding spaces')
  t.equal(typeOf(['1', '2.5']), 'double', 'integers and doubles mix to double')
  t.equal(typeOf(['1.', '.5', '1e-3', '2E+10']), 'double')
  t.equal(typeOf(['1234567890123456789']), 'double', 'more than 18 digits is no integer')
  t.equal(typeOf(['123456789012345678']), 'integer', '18 digits is')
  t.equal(typeOf(['1', 'NaN', 'nan', 'NULL', 'N/A', '']), 'integer', 'nulls do not count')
  t.equal(typeOf(['true', 'FALSE', 'True']), 'boolean')
  t.equal(typeOf(['true', '1']), 'string', 'booleans and numbers mix to string')
  t.equal(typeOf(['1', 'x']), 'string')
  t.equal(typeOf(['Infinity']), 'string')
  t.equal(typeOf(['NA', '']), 'string', 'only nulls: string')
  t.equal(typeOf([]), 'string', 'a header and no rows: string')
})

t.test('sniffCsv: header names', async (t) => {
  t.strictSame(sniffCsv(buf('"last, first", age ,\n"Doe, J",42,x\n'), true), [
    { name: 'last, first', type: 'string' },
    { name: 'age', type: 'integer' },
    { name: '_c2', type: 'string' },
  ])
  t.strictSame(
    sniffCsv(buf(',\n1,2\n'), true)?.map((c) => c.name),
    ['_c0', '_c1'],
    'empty names are _c<index>',
  )
  t.strictSame(
    sniffCsv(buf('\n\n a,b\n1,2'), true)?.map((c) => c.name),
    ['a', 'b'],
    'leading blank lines are skipped',
  )
  t.strictSame(
    sniffCsv(buf('a,b\n1\n'), true),
    [
      { name: 'a', type: 'integer' },
      { name: 'b', type: 'string' },
    ],
    'a short row leaves its missing fields null',
  )
})

t.test('sniffCsv: a cut head sniffs only its complete rows', async (t) => {
  const head = buf('a,b\n1,2\n3.5,x')
  t.strictSame(sniffCsv(head, false), [
    { name: 'a', type: 'integer' },
    { name: 'b', type: 'integer' },
  ])
  t.strictSame(sniffCsv(head, true), [
    { name: 'a', type: 'double' },
    { name: 'b', type: 'string' },
  ])
  t.strictSame(
    sniffCsv(buf('a,b\r\n1,2\r\n3,'), false),
    [
      { name: 'a', type: 'integer' },
      { name: 'b', type: 'integer' },
    ],
    'CRLF rows',
  )
})

t.test('sniffCsv: no header line → undefined', async (t) => {
  t.equal(sniffCsv(buf(''), true), undefined, 'empty')
  t.equal(sniffCsv(buf('\n \n\r\n'), true), undefined, 'only blank lines')
  t.equal(sniffCsv(buf('a,b,c'), false), undefined, 'a header cut before its end')
})

// [name, nameProblem's answer: undefined when the name is fine]
const NAMES: [string, string | undefined][] = [
  ['iris.csv', undefined],
  ['my data (v2).csv', undefined],
  ['.hidden', undefined],
  ['...', undefined],
  ['données-été.csv', undefined],
  ['数据.csv', undefined],
  ['a\u00a0b', undefined], // no-break space: not a control character
  ['a'.repeat(255), undefined],
  ['é'.repeat(127), undefined], // 254 bytes
  ['', 'must not be empty'],
  ['.', 'must not be "." or ".."'],
  ['..', 'must not be "." or ".."'],
  ['a/b.csv', 'must not contain "/" or "\\"'],
  ['../etc', 'must not contain "/" or "\\"'],
  ['a\\b.csv', 'must not contain "/" or "\\"'],
  ['c:data.csv', 'must not contain ":" (HDFS does not allow it in a path)'],
  ['a\u0000b', 'must not contain control characters'],
  ['a\tb', 'must not contain control characters'],
  ['a\nb', 'must not contain control characters'],
  ['a\u001fb', 'must not contain control characters'],
  ['a\u007fb', 'must not contain control characters'], // DEL
  ['a\u0085b', 'must not contain control characters'], // C1 (NEL)
  ['a\u009fb', 'must not contain control characters'],
  ['a'.repeat(256), 'must be at most 255 bytes (UTF-8)'],
]

t.test('nameProblem: file names as HDFS stores them', async (t) => {
  for (const [name, problem] of NAMES) {
    const shown = JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}… (${name.length})` : name)
    t.equal(nameProblem(name), problem, `${shown}: ${problem ?? 'fine'}`)
  }
  // bytes, not characters: 128 two-byte characters are 256 bytes
  t.equal(nameProblem('é'.repeat(128)), 'must be at most 255 bytes (UTF-8)')
  t.equal(nameProblem('😀'.repeat(64)), 'must be at most 255 bytes (UTF-8)', '4-byte characters')
})

t.test('the DatasetName schema accepts and refuses the same names as nameProblem', async (t) => {
  for (const [name, problem] of NAMES) {
    const shown = JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}… (${name.length})` : name)
    t.equal(
      Value.Check(DatasetName, name),
      problem === undefined,
      `${shown}: schema ${problem === undefined ? 'accepts' : 'refuses'} it`,
    )
  }
  // Not compared: a name of at most 255 characters but more than 255 bytes. A JSON
  // schema's maxLength counts characters, so only nameProblem (which the upload route
  // runs after the schema) refuses those.
})
