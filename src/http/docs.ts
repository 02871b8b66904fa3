import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { serviceVersion } from './info/info.controller';

/** The OpenAPI document of every route. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Cepheus')
    .setDescription(
      'Complex-event-processing rule engine. Embedded mode: events over HTTP (POST /events), rules from RULES_DIR ' +
        'and the REST API, recent alerts in memory (GET /alerts, GET /alerts/stream). When API_TOKEN is set, every ' +
        'write needs `Authorization: Bearer <token>`; reads stay open.',
    )
    .setVersion(serviceVersion())
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque token (API_TOKEN)', description: 'API_TOKEN' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Serves the Swagger UI at /docs and the document at /docs-json (and /docs-yaml). */
export function setupDocs(app: INestApplication): OpenAPIObject {
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return document;
}
