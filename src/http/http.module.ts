import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AlertsController } from './alerts/alerts.controller';
import { ConnectionDrainer } from './common/connection-drainer';
import { ServiceErrorsFilter } from './common/errors.filter';
import { WriteAuthGuard, WriteTrackingInterceptor } from './common/write-access';
import { EventsController } from './events/events.controller';
import { HealthController } from './health/health.controller';
import { InfoController } from './info/info.controller';
import { MetricsController } from './metrics/metrics.controller';
import { RulesController } from './rules/rules.controller';

/** The HTTP API: controllers, write authentication, error mapping. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [InfoController, EventsController, AlertsController, RulesController, HealthController, MetricsController],
  providers: [
    ConnectionDrainer,
    { provide: APP_GUARD, useClass: WriteAuthGuard },
    { provide: APP_INTERCEPTOR, useClass: WriteTrackingInterceptor },
    { provide: APP_FILTER, useClass: ServiceErrorsFilter },
  ],
})
export class HttpModule {}
