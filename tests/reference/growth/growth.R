# Reference values for tests/analyses/test_growth_reference.py.
# Run from the repo root: Rscript tests/reference/growth/growth.R
# Input: panel.csv (written by make_panel.py: the model frame growth_model builds
# from simulate_study(n_therapists=12, clients_per_therapist=8, max_sessions=14, seed=11)).
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
here <- "tests/reference/growth"
d <- read.csv(file.path(here, "panel.csv"), stringsAsFactors = FALSE)
d$format <- factor(d$format)
f <- trimws(readLines(file.path(here, "formula.txt")))
# tight optimiser tolerances so the optimum is reproducible to ~1e-8
ctrl <- lmerControl(optimizer = "bobyqa",
                    optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
fit <- lmer(as.formula(f), data = d, REML = TRUE, control = ctrl)
co <- summary(fit)$coefficients
fixed <- data.frame(
  term = rownames(co),
  `fixef(fit)` = co[, "Estimate"],
  `summary(fit)$coefficients[, "Std. Error"]` = co[, "Std. Error"],
  `summary(fit)$coefficients[, "df"]` = co[, "df"],
  `summary(fit)$coefficients[, "t value"]` = co[, "t value"],
  check.names = FALSE
)
write.csv(fixed, file.path(here, "fixed.csv"), row.names = FALSE)
vc <- as.data.frame(VarCorr(fit))
names(vc)[names(vc) == "vcov"] <- "as.data.frame(VarCorr(fit))$vcov"
write.csv(vc, file.path(here, "varcorr.csv"), row.names = FALSE)
# moderation: does the time slope of autonomous differ between formats?
slopes <- "time * (autonomous + readiness + alliance_between)"
fm <- paste("phq9_total ~", slopes, "* format + alliance_within_lag + phq9_total_prior_within",
            "+ (1 | therapist_id) + (1 + time | client_id)")
mod <- lmer(as.formula(fm), data = d, REML = TRUE, control = ctrl)
L <- matrix(0, 1, length(fixef(mod)), dimnames = list(NULL, names(fixef(mod))))
L[1, "time:autonomous:formatindividual"] <- 1
ct <- contest(mod, L, joint = TRUE)
simple <- contest(mod, rbind(
  group = as.numeric(names(fixef(mod)) == "time:autonomous"),
  individual = as.numeric(names(fixef(mod)) %in% c("time:autonomous",
                                                    "time:autonomous:formatindividual"))
), joint = FALSE)
out <- list(
  formula = f,
  moderation_formula = fm,
  `contest(mod, L, joint = TRUE)$F value` = ct$`F value`,
  `contest(mod, L, joint = TRUE)$DenDF` = ct$DenDF,
  `contest(mod, L, joint = TRUE)$Pr(>F)` = ct$`Pr(>F)`,
  `contest(mod, simple, joint = FALSE)$Estimate` = simple$Estimate,
  `contest(mod, simple, joint = FALSE)$Std. Error` = simple$`Std. Error`,
  `contest(mod, simple, joint = FALSE)$df` = simple$df,
  `fixef(mod)` = as.list(fixef(mod)),
  `REMLcrit(fit)` = REMLcrit(fit),
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  lmerTest = as.character(packageVersion("lmerTest"))
)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "moderation.json"))
