/* Part of cambrian.h: linear algebra. Include cambrian.h, not this file. */
#ifndef CAMBRIAN_LINALG_H
#define CAMBRIAN_LINALG_H
#endif
