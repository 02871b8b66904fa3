import { ApiProperty } from '@nestjs/swagger';

/** Nest's error body (400, 401, 404, 409, 413, 415, 503). */
export class ErrorDto {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({ example: 'Not Found' }) error!: string;
  @ApiProperty({ example: "no rule 'brute-force-login'" }) message!: string;
}
