import { ApiProperty } from '@nestjs/swagger';

/** The error body of every status but 422 (400, 401, 404, 405, 409, 413, 415, 503). */
export class ErrorDto {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({ example: 'Not Found' }) error!: string;
  @ApiProperty({ example: "no rule 'brute-force-login'" }) message!: string;
}
