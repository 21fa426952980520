// The text of a structured value in the web form's `yaml` widget (the network
// interfaces): YAML, or JSON, which is YAML too, read with the `yaml` package; the value
// is then checked by the catalog like any other. Shared so that the browser bundle reads
// it exactly as a test or a tool would.
import { parse, stringify } from 'yaml';

export type YamlRead = { value: unknown } | { problem: string };

/** The value of the text, or why it is not YAML (the parser's message, with its line). */
export function readYamlText(text: string): YamlRead {
  try {
    return { value: parse(text, { prettyErrors: true, uniqueKeys: true }) };
  } catch (err) {
    const first = String((err as Error).message).split('\n')[0];
    return { problem: `is not valid YAML or JSON: ${first}` };
  }
}

/** A value as the text the widget shows (a profile's params filled into the form). */
export function yamlText(value: unknown): string {
  return value === undefined ? '' : stringify(value, { flowCollectionPadding: false });
}
