/** XML↔JSON with fast-xml-parser: attributes as `@name`, text next to attributes as `#text`. */
import type { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { lazyModule } from '../../lazy-module.js';

const OPTIONS = { ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text' } as const;
// Loaded when a route first converts XML, not at startup.
const fxp = lazyModule<typeof import('fast-xml-parser')>('fast-xml-parser');
let parserMade: XMLParser | undefined;
let builderMade: XMLBuilder | undefined;
const parser = () => (parserMade ??= new (fxp().XMLParser)({ ...OPTIONS, ignoreDeclaration: true, ignorePiTags: true }));
const builder = () => (builderMade ??= new (fxp().XMLBuilder)({ ...OPTIONS, suppressEmptyNode: false }));

/** The JSON value of an XML document; throws with the parser's reason when it is not well-formed. */
export function xmlToJson(text: string): unknown {
  const check = fxp().XMLValidator.validate(text);
  if (check !== true) throw new Error(`${check.err.msg} (line ${check.err.line}, col ${check.err.col})`);
  return parser().parse(text) as unknown;
}

/** An XML document for a JSON value: a single-key object names the root element, anything else goes under `root`. */
export function jsonToXml(value: unknown, root: string): string {
  let doc: unknown;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1) doc = value;
  else if (Array.isArray(value)) doc = { [root]: { item: value } };
  else doc = { [root]: value };
  return `<?xml version="1.0" encoding="UTF-8"?>${builder().build(doc) as string}`;
}
