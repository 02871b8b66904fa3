import 'reflect-metadata';
import { runService } from './http/server';

void runService();
