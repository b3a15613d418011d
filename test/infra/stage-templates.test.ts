import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STAGE_FIXTURE, stageTemplate } from '#test/infra/stage-template.ts';

type Template = { Resources: Record<string, { Type: string }>; Outputs?: Record<string, unknown> };

/**
 * The stage stacks keep their resources: a changed logical id would make CloudFormation replace
 * the resource (a table with its data) on the next deploy. The fixture is the templates as the
 * stages deployed them before `ContactSync` became a construct (`Default` inside the stack).
 */
const committed = JSON.parse(readFileSync(STAGE_FIXTURE, 'utf8')) as Record<string, Template>;
const typesById = (template: Template) =>
  Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type]));

describe.each(['dev', 'prod'])('the %s stack', (stage) => {
  const template = stageTemplate(stage) as Template;
  const fixture = committed[stage] as Template;

  // A resource added later is no replacement: this one holds however the product grows.
  it('has every logical id (and resource type) it had', () => {
    expect(Object.keys(fixture.Resources).length).toBeGreaterThan(100);
    expect(typesById(template)).toMatchObject(typesById(fixture));
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining(Object.keys(fixture.Outputs ?? {})),
    );
  });

  // Any change shows here; a deliberate one is committed with the fixture rewritten
  // (`npx tsx test/infra/stage-template.ts && npx biome check --write test/infra/fixtures`) once the
  // test above passes.
  it('synthesizes the same template, asset hashes aside', () => {
    expect(template).toEqual(fixture);
  });
});

describe('the dev stage', () => {
  it('lets only its deployed console and the Vite dev server call the API from a browser, not any origin', () => {
    const template = stageTemplate('dev') as Template & {
      Resources: Record<
        string,
        { Type: string; Properties?: { CorsConfiguration?: { AllowOrigins: unknown[] } } }
      >;
    };
    const [api] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Api');
    const origins = api?.Properties?.CorsConfiguration?.AllowOrigins ?? [];
    expect(origins).not.toContain('*');
    expect(origins.slice(0, 2)).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173']);
    expect(JSON.stringify(origins[2])).toContain('WebConsoleDistribution');
    expect(origins).toHaveLength(3);
  });
});
