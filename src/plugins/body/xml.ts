/** XML↔JSON with fast-xml-parser: attributes as `@name`, text next to attributes as `#text`. */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

const OPTIONS = { ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text' } as const;
const parser = new XMLParser({ ...OPTIONS, ignoreDeclaration: true, ignorePiTags: true });
const builder = new XMLBuilder({ ...OPTIONS, suppressEmptyNode: false });

/** The JSON value of an XML document; throws with the parser's reason when it is not well-formed. */
export function xmlToJson(text: string): unknown {
  const check = XMLValidator.validate(text);
  if (check !== true) throw new Error(`${check.err.msg} (line ${check.err.line}, col ${check.err.col})`);
  return parser.parse(text) as unknown;
}

/** An XML document for a JSON value: a single-key object names the root element, anything else goes under `root`. */
export function jsonToXml(value: unknown, root: string): string {
  let doc: unknown;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1) doc = value;
  else if (Array.isArray(value)) doc = { [root]: { item: value } };
  else doc = { [root]: value };
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build(doc) as string}`;
}
