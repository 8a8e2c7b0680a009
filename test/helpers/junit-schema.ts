import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';

const JUNIT_XSD = fileURLToPath(new URL('../fixtures/junit.xsd', import.meta.url));

/** libxml2's XSD validation of a JUnit report (WebAssembly, offline); the errors, none when valid. */
export async function junitSchemaErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'junit.xsd', contents: readFileSync(JUNIT_XSD, 'utf8') }],
  });
  return result.errors.map((e) => e.rawMessage);
}
