# Reference values for tests/analyses/test_moderation.py: simple slopes of each predictor's
# time effect per moderator level, averaged over the other moderator, with two moderators.
# Run from the repo root: Rscript tests/reference/moderation/moderation.R
# Input: panel.csv and formula.txt, written by make_data.py (the model frame that
# growth_model(data.csv, predictors = autonomous + stage, moderators = modality + format) builds).
# Output: slopes.csv (one row per moderator, predictor, level and weighting; each number's
# column is named by the R expression that computed it), tests.csv (joint F tests) and
# fixed.csv (fixed effects, for diagnosis).
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
here <- "tests/reference/moderation"
d <- read.csv(file.path(here, "panel.csv"), stringsAsFactors = FALSE)
for (v in c("stage", "modality", "format")) d[[v]] <- factor(d[[v]])  # alphabetical levels
f <- trimws(readLines(file.path(here, "formula.txt")))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
fit <- lmer(as.formula(f), data = d, REML = TRUE, control = ctrl)
b <- fixef(fit)
clients <- d[!duplicated(d$client_id), ]
mods <- c("modality", "format")
pieces <- c(autonomous = "autonomous", stagecontemplation = "stage")  # coded column -> variable
level_weights <- function(m, weights) {
  lv <- levels(d[[m]])
  if (weights == "equal") return(setNames(rep(1 / length(lv), length(lv)), lv))
  tab <- table(clients[[m]])[lv]  # shares of clients
  setNames(as.numeric(tab) / sum(tab), lv)
}
unit <- function(...) as.numeric(names(b) == paste(c("time", ...), collapse = ":"))
has_emmeans <- requireNamespace("emmeans", quietly = TRUE)
rows <- list()
tests <- list()
for (m in mods) {
  other <- setdiff(mods, m)
  for (p in names(pieces)) {
    for (weights in c("proportional", "equal")) {
      w <- level_weights(other, weights)
      avg <- unit(p)
      for (lv in levels(d[[other]])[-1]) avg <- avg + w[[lv]] * unit(p, paste0(other, lv))
      L <- t(sapply(levels(d[[m]]), function(lv) {
        if (lv == levels(d[[m]])[1]) avg else avg + unit(p, paste0(m, lv))
      }))
      ct <- contest(fit, L, joint = FALSE)
      row <- data.frame(
        moderator = m, predictor = p, level = levels(d[[m]]), averaged_over = other,
        weights = weights,
        `contest(fit, L, joint = FALSE)$Estimate` = ct$Estimate,
        `contest(fit, L, joint = FALSE)$"Std. Error"` = ct$`Std. Error`,
        `contest(fit, L, joint = FALSE)$df` = ct$df,
        L_weights = paste(sprintf("%s=%.17g", names(w), w), collapse = ";"),
        check.names = FALSE
      )
      if (has_emmeans) {
        # the same slopes from emmeans: the time trend per unit of the predictor
        # (autonomous 1 vs 0; stage contemplation vs action), per level of m
        spec <- as.formula(paste("~", pieces[[p]], "|", m))
        at <- if (p == "autonomous") list(autonomous = c(0, 1)) else list()
        em <- emmeans::emtrends(fit, spec, var = "time", at = at, weights = weights,
                                lmer.df = "satterthwaite")
        s <- summary(pairs(em, reverse = TRUE))
        row$`summary(pairs(emtrends(fit, ~ predictor | m, var = "time", weights), reverse = TRUE))$estimate` <- s$estimate
        row$`summary(pairs(emtrends(...), reverse = TRUE))$SE` <- s$SE
        row$`summary(pairs(emtrends(...), reverse = TRUE))$df` <- s$df
      }
      rows[[length(rows) + 1]] <- row
    }
    J <- t(sapply(levels(d[[m]])[-1], function(lv) unit(p, paste0(m, lv))))
    jt <- contest(fit, J, joint = TRUE)
    tests[[length(tests) + 1]] <- data.frame(
      moderator = m, predictor = pieces[[p]],
      `contest(fit, J, joint = TRUE)$NumDF` = jt$NumDF,
      `contest(fit, J, joint = TRUE)$DenDF` = jt$DenDF,
      `contest(fit, J, joint = TRUE)$"F value"` = jt$`F value`,
      `contest(fit, J, joint = TRUE)$"Pr(>F)"` = jt$`Pr(>F)`,
      check.names = FALSE
    )
  }
}
slopes <- do.call(rbind, rows)
write.csv(slopes, file.path(here, "slopes.csv"), row.names = FALSE)
write.csv(do.call(rbind, tests), file.path(here, "tests.csv"), row.names = FALSE)
co <- summary(fit)$coefficients
write.csv(data.frame(term = rownames(co), `fixef(fit)` = co[, "Estimate"],
                     `summary(fit)$coefficients[, "Std. Error"]` = co[, "Std. Error"],
                     check.names = FALSE),
          file.path(here, "fixed.csv"), row.names = FALSE)
versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                 lmerTest = as.character(packageVersion("lmerTest")),
                 emmeans = if (has_emmeans) as.character(packageVersion("emmeans")) else NA,
                 formula = f, `REMLcrit(fit)` = REMLcrit(fit),
                 `isSingular(fit)` = isSingular(fit))
write(toJSON(versions, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      file.path(here, "versions.json"))
