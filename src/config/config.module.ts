import { DynamicModule, Global, Module } from '@nestjs/common';
import type { ServiceConfig } from './config';

/** Injection token of the validated ServiceConfig. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** Provides the configuration validated by loadConfig() to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: SERVICE_CONFIG, useValue: config }],
      exports: [SERVICE_CONFIG],
    };
  }
}
