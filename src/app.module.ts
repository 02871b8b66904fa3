import { DynamicModule, Module } from '@nestjs/common';
import { ServiceModule } from './app/service.module';
import type { Logger } from './app/logging/logger';
import type { ServiceConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { HttpModule } from './http/http.module';

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), ServiceModule.forRoot(config, logger), HttpModule],
    };
  }
}
